/**
 * Public face of the Wazo connector. The composition root (src/cli) builds a {@link WazoConnector}, hands it to
 * the bridge core, and mounts {@link createWebhookApp} at `/wazo` when `[wazo] events = "webhook"`.
 */
export { AuthClient, RenewingToken, type TokenProvider } from './auth.ts';
export { ChatdClient } from './chatd.ts';
export { ConfdClient, UserDirectory, type WazoProfile } from './confd.ts';
export { WazoConnector, type WazoConnectorOptions } from './connector.ts';
export { type CursorStore, memoryCursor, sqliteCursor } from './cursor-store.ts';
export { createMarkdown, wazoToMatrix } from './from-wazo.ts';
export { type InboxStore, memoryInbox, sqliteInbox } from './inbox.ts';
export { WazoHttp } from './http.ts';
export { type Clock, systemClock } from './timers.ts';
export { editToWazo, matrixToWazo, reactionToWazo } from './to-wazo.ts';
export { createWebhookApp } from './webhook-app.ts';
export { WebhookdClient } from './webhookd.ts';
