/**
 * A session can stall with its sockets open (nothing either way, no close). The watch looks every
 * half of `limit`: silent for half of it, the session is probed; silent for all of it, it is stalled.
 */
export class StallWatch {
  private lastHeard = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly limit: number,
    private readonly quiet: (stalled: boolean) => void,
  ) {}

  /** Watches from now (again, if it was). */
  start(): void {
    this.lastHeard = Date.now();
    this.stop();
    this.timer = setInterval(() => {
      const quiet = Date.now() - this.lastHeard;
      if (quiet >= this.limit) this.quiet(true);
      else if (quiet >= this.limit / 2) this.quiet(false);
    }, this.limit / 2);
  }

  /** Something came from the server. */
  heard(): void {
    this.lastHeard = Date.now();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
