CREATE TABLE `appservice_txns` (
	`token_hash` text NOT NULL,
	`txn_id` text NOT NULL,
	`events` integer NOT NULL,
	`received_at` integer NOT NULL,
	PRIMARY KEY(`token_hash`, `txn_id`)
);
--> statement-breakpoint
CREATE TABLE `ghosts` (
	`remote_user_id` text PRIMARY KEY NOT NULL,
	`network` text NOT NULL,
	`user_id` text NOT NULL,
	`display_name` text,
	`avatar_mxc` text,
	`email` text,
	`phone` text,
	`registered` integer DEFAULT false NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ghosts_user_id_unique` ON `ghosts` (`user_id`);--> statement-breakpoint
CREATE TABLE `management_rooms` (
	`matrix_user_id` text PRIMARY KEY NOT NULL,
	`room_id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `management_rooms_room_id_unique` ON `management_rooms` (`room_id`);--> statement-breakpoint
CREATE TABLE `matrix_tokens` (
	`matrix_user_id` text PRIMARY KEY NOT NULL,
	`token` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `message_map` (
	`matrix_event_id` text PRIMARY KEY NOT NULL,
	`remote_message_id` text NOT NULL,
	`matrix_room_id` text NOT NULL,
	`remote_room_id` text NOT NULL,
	`direction` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `message_map_remote_message_id_unique` ON `message_map` (`remote_message_id`);--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` integer PRIMARY KEY NOT NULL,
	`lane` text NOT NULL,
	`queue_key` text NOT NULL,
	`dedupe_key` text NOT NULL,
	`payload` text NOT NULL,
	`state` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`created_at` integer NOT NULL,
	`done_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_dedupe_key_unique` ON `outbox` (`dedupe_key`);--> statement-breakpoint
CREATE INDEX `outbox_pending` ON `outbox` (`queue_key`,`id`) WHERE state = 'pending';--> statement-breakpoint
CREATE TABLE `portals` (
	`remote_room_id` text PRIMARY KEY NOT NULL,
	`network` text NOT NULL,
	`matrix_room_id` text,
	`name` text,
	`topic` text,
	`is_direct` integer DEFAULT false NOT NULL,
	`fixed_members` integer DEFAULT false NOT NULL,
	`broken` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `portals_matrix_room_id_unique` ON `portals` (`matrix_room_id`);--> statement-breakpoint
CREATE TABLE `puppets` (
	`matrix_user_id` text PRIMARY KEY NOT NULL,
	`network` text NOT NULL,
	`remote_user_id` text NOT NULL,
	`remote_name` text NOT NULL,
	`credentials` text NOT NULL,
	`logged_out` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `puppets_remote_user_id_unique` ON `puppets` (`remote_user_id`);--> statement-breakpoint
CREATE TABLE `room_flags` (
	`room_id` text NOT NULL,
	`flag` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`room_id`, `flag`)
);
--> statement-breakpoint
CREATE TABLE `conversation_classifications` (
	`conversation_id` text PRIMARY KEY NOT NULL,
	`model_version` text NOT NULL,
	`conversation_revision` integer NOT NULL,
	`sentiment_label` text NOT NULL,
	`sentiment_score` real NOT NULL,
	`sentiment_trend` real,
	`intent_label` text NOT NULL,
	`intent_confidence` real NOT NULL,
	`intents` text DEFAULT '[]' NOT NULL,
	`keywords` text DEFAULT '[]' NOT NULL,
	`language` text NOT NULL,
	`agent_sentiment_score` real,
	`classified_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `conversation_classifications_version` ON `conversation_classifications` (`model_version`);--> statement-breakpoint
CREATE TABLE `conversation_terms` (
	`conversation_id` text PRIMARY KEY NOT NULL,
	`stems` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `message_classifications` (
	`event_id` text PRIMARY KEY NOT NULL,
	`model_version` text NOT NULL,
	`language` text NOT NULL,
	`language_unsupported` integer DEFAULT false NOT NULL,
	`role` text NOT NULL,
	`sentiment_label` text NOT NULL,
	`sentiment_score` real NOT NULL,
	`intent_label` text NOT NULL,
	`intent_confidence` real NOT NULL,
	`intent_runner_up` text,
	`intent_runner_up_confidence` real,
	`keywords` text DEFAULT '[]' NOT NULL,
	`classified_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `message_classifications_version` ON `message_classifications` (`model_version`);--> statement-breakpoint
CREATE TABLE `crm_links` (
	`kind` text NOT NULL,
	`local_key` text NOT NULL,
	`twenty_id` text NOT NULL,
	`content_hash` text NOT NULL,
	`status` text NOT NULL,
	`error` text,
	`match_email` text,
	`match_phone` text,
	`state` text,
	`exported_at` integer NOT NULL,
	PRIMARY KEY(`kind`, `local_key`)
);
--> statement-breakpoint
CREATE INDEX `crm_links_twenty_id` ON `crm_links` (`twenty_id`);--> statement-breakpoint
CREATE INDEX `crm_links_match_email` ON `crm_links` (`match_email`);--> statement-breakpoint
CREATE INDEX `crm_links_match_phone` ON `crm_links` (`match_phone`);--> statement-breakpoint
CREATE TABLE `crm_state` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `conversations` (
	`id` text PRIMARY KEY NOT NULL,
	`room_id` text NOT NULL,
	`channel` text NOT NULL,
	`customer_key` text,
	`started_at` integer NOT NULL,
	`last_message_at` integer NOT NULL,
	`message_count` integer NOT NULL,
	`customer_message_count` integer NOT NULL,
	`agent_message_count` integer NOT NULL,
	`first_response_seconds` real,
	`mean_response_seconds` real,
	`resolution_seconds` real,
	`status` text NOT NULL,
	`agents` text DEFAULT '[]' NOT NULL,
	`encrypted` integer DEFAULT false NOT NULL,
	`revision` integer DEFAULT 1 NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `conversations_room` ON `conversations` (`room_id`);--> statement-breakpoint
CREATE INDEX `conversations_customer` ON `conversations` (`customer_key`);--> statement-breakpoint
CREATE TABLE `customers` (
	`key` text PRIMARY KEY NOT NULL,
	`channel` text NOT NULL,
	`phone` text,
	`mxid` text,
	`name` text,
	`email` text,
	`wazo_user_uuid` text,
	`wa_lid` text,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `history_edits` (
	`event_id` text PRIMARY KEY NOT NULL,
	`room_id` text NOT NULL,
	`target_event_id` text NOT NULL,
	`sender` text NOT NULL,
	`ts` integer NOT NULL,
	`body` text,
	`formatted_body` text
);
--> statement-breakpoint
CREATE INDEX `history_edits_target` ON `history_edits` (`target_event_id`);--> statement-breakpoint
CREATE TABLE `history_events` (
	`event_id` text PRIMARY KEY NOT NULL,
	`room_id` text NOT NULL,
	`sender` text NOT NULL,
	`sender_role` text NOT NULL,
	`type` text NOT NULL,
	`msgtype` text,
	`body` text,
	`formatted_body` text,
	`ts` integer NOT NULL,
	`reply_to` text,
	`thread_root` text,
	`edited_at` integer,
	`original_body` text,
	`original_formatted_body` text,
	`redacted` integer DEFAULT false NOT NULL,
	`reaction_count` integer DEFAULT 0 NOT NULL,
	`encrypted` integer DEFAULT false NOT NULL,
	`conversation_id` text
);
--> statement-breakpoint
CREATE INDEX `history_events_room_ts` ON `history_events` (`room_id`,`ts`);--> statement-breakpoint
CREATE INDEX `history_events_conversation` ON `history_events` (`conversation_id`);--> statement-breakpoint
CREATE TABLE `history_memberships` (
	`event_id` text PRIMARY KEY NOT NULL,
	`room_id` text NOT NULL,
	`user_id` text NOT NULL,
	`sender` text NOT NULL,
	`membership` text NOT NULL,
	`display_name` text,
	`reason` text,
	`ts` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `history_memberships_room` ON `history_memberships` (`room_id`,`user_id`);--> statement-breakpoint
CREATE TABLE `history_participants` (
	`room_id` text NOT NULL,
	`user_id` text NOT NULL,
	`role` text NOT NULL,
	`customer_key` text,
	`display_name` text,
	PRIMARY KEY(`room_id`, `user_id`)
);
--> statement-breakpoint
CREATE INDEX `history_participants_customer` ON `history_participants` (`customer_key`);--> statement-breakpoint
CREATE TABLE `history_reactions` (
	`event_id` text PRIMARY KEY NOT NULL,
	`room_id` text NOT NULL,
	`target_event_id` text NOT NULL,
	`sender` text NOT NULL,
	`key` text,
	`ts` integer NOT NULL,
	`redacted` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE INDEX `history_reactions_target` ON `history_reactions` (`target_event_id`);--> statement-breakpoint
CREATE TABLE `history_redactions` (
	`event_id` text PRIMARY KEY NOT NULL,
	`room_id` text NOT NULL,
	`target_event_id` text NOT NULL,
	`sender` text NOT NULL,
	`ts` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `history_redactions_target` ON `history_redactions` (`target_event_id`);--> statement-breakpoint
CREATE TABLE `history_room_upgrades` (
	`predecessor_room_id` text NOT NULL,
	`successor_room_id` text NOT NULL,
	`tombstone_event_id` text,
	`tombstone_sender` text,
	`body` text,
	`claimed_by` text,
	`detected_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`predecessor_room_id`, `successor_room_id`)
);
--> statement-breakpoint
CREATE INDEX `history_room_upgrades_successor` ON `history_room_upgrades` (`successor_room_id`);--> statement-breakpoint
CREATE TABLE `history_rooms` (
	`room_id` text PRIMARY KEY NOT NULL,
	`channel` text NOT NULL,
	`name` text,
	`is_direct` integer DEFAULT false NOT NULL,
	`encrypted` integer DEFAULT false NOT NULL,
	`remote_channel_id` text,
	`customer_key` text,
	`no_phone_number` integer DEFAULT false NOT NULL,
	`last_synced_at` integer,
	`wa_receiver` text,
	`account` text,
	`encrypted_event_count` integer DEFAULT 0 NOT NULL,
	`last_error` text
);
--> statement-breakpoint
CREATE TABLE `sync_cursors` (
	`room_id` text NOT NULL,
	`account` text NOT NULL,
	`backward_token` text,
	`backfill_done` integer DEFAULT false NOT NULL,
	`forward_token` text,
	`backfill_count` integer DEFAULT 0 NOT NULL,
	`gap_token` text,
	`last_event_id` text,
	`gap_stop_event_id` text,
	`gap_count` integer DEFAULT 0 NOT NULL,
	`forward_done` integer DEFAULT false NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`room_id`, `account`)
);
--> statement-breakpoint
CREATE TABLE `job_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`job` text NOT NULL,
	`trigger` text NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`status` text NOT NULL,
	`counts` text DEFAULT '{}' NOT NULL,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `job_runs_job_started` ON `job_runs` (`job`,`started_at`);--> statement-breakpoint
CREATE TABLE `wazo_cursors` (
	`name` text PRIMARY KEY NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `wazo_inbox` (
	`uuid` text PRIMARY KEY NOT NULL,
	`payload` text NOT NULL,
	`received_at` integer NOT NULL
);
