export { type AppDeps, createApp, errorBody } from './app.ts';
export { type RunningServer, startServer } from './server.ts';
