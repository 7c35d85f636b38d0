/**
 * What the connector knows about chatd rooms. The message events carry no participant list, and a service
 * token cannot read rooms, so membership comes from `chatd_user_room_created` events, from the recipient key
 * of websocket copies, and from the room lists of logged-in puppets (`GET /users/me/rooms`).
 */
import type { WazoRoom } from './schemas.ts';

export interface KnownRoom {
  uuid: string;
  name: string | undefined;
  members: Set<string>;
  /** True when the member list is complete (from a room object, not only from event recipients). */
  complete: boolean;
}

export class RoomDirectory {
  readonly #rooms = new Map<string, KnownRoom>();

  get(uuid: string): KnownRoom | undefined {
    return this.#rooms.get(uuid);
  }

  /** Records a full room object (room-created event or a room list). */
  addRoom(r: WazoRoom): KnownRoom {
    const room: KnownRoom = {
      uuid: r.uuid.toLowerCase(),
      name: r.name ?? undefined,
      members: new Set(r.users.filter((u) => !u.identity).map((u) => u.uuid.toLowerCase())),
      complete: true,
    };
    this.#rooms.set(room.uuid, room);
    return room;
  }

  /** Records that `user` is a member (recipient of an event copy, or the sender of a message). */
  addMember(roomUuid: string, user: string): void {
    const key = roomUuid.toLowerCase();
    let room = this.#rooms.get(key);
    if (!room) {
      room = { uuid: key, name: undefined, members: new Set(), complete: false };
      this.#rooms.set(key, room);
    }
    room.members.add(user.toLowerCase());
  }
}
