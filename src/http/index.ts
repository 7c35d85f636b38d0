export { type AppDeps, type BodyLimitFloor, createApp, errorBody, type Mount } from './app.ts';
export { type RunningServer, startServer } from './server.ts';
