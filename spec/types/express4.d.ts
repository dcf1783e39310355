// Express 4, installed under an alias for the compatibility test (spec/core/mounting.test.ts).
declare module 'express4' {
  import express from 'express';
  export default express;
}
