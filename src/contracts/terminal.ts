// The lab terminal's WebSocket protocol: JSON text messages both ways. The browser's terminal,
// the portal's terminal bridge and the instructor's read-only view all speak it.
//
// Browser → portal (validated here):
//   attach  {shell?, seq?, cols, rows}  first message; `shell` and `seq` say what the tab last saw
//   input   {data}                      keystrokes and pastes
//   resize  {cols, rows}
// Portal → browser:
//   status   {state, message?}          connecting | connected | exited
//   replay   {shell, seq, data, reset, cols?, rows?}  after attach: what the tab missed (reset: clear
//                                       first), drawn at cols × rows: a wider tab draws it at that width, then reflows
//   output   {seq, data}                new output; seq is the offset just past `data`
//   takeover {message}                  another tab attached; the portal then closes this socket
//   error    {message}                  the last message was refused
// "reconnecting" is a state only the browser knows: its connection dropped and it is trying again.

import { z } from 'zod';

/** Large enough for a pasted manifest, small enough that one message cannot hog the portal. */
export const MAX_INPUT_LENGTH = 64 * 1024;
const MAX_DIMENSION = 1000;

const dimension = z.number().int().min(1).max(MAX_DIMENSION);

export const clientMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('attach'),
    shell: z.string().max(64).optional(),
    seq: z.number().int().min(0).optional(),
    cols: dimension,
    rows: dimension,
  }),
  z.object({ type: z.literal('input'), data: z.string().min(1).max(MAX_INPUT_LENGTH) }),
  z.object({ type: z.literal('resize'), cols: dimension, rows: dimension }),
]);

export type ClientMessage = z.infer<typeof clientMessage>;

export const TERMINAL_STATES = ['connecting', 'connected', 'exited'] as const;
export type TerminalState = (typeof TERMINAL_STATES)[number];

export const serverMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('status'), state: z.enum(TERMINAL_STATES), message: z.string().optional() }),
  z.object({ type: z.literal('replay'), shell: z.string(), seq: z.number().int(), data: z.string(), reset: z.boolean(), cols: dimension.optional(), rows: dimension.optional() }),
  z.object({ type: z.literal('output'), seq: z.number().int(), data: z.string() }),
  z.object({ type: z.literal('takeover'), message: z.string() }),
  z.object({ type: z.literal('error'), message: z.string() }),
]);
export type ServerMessage = z.infer<typeof serverMessage>;

/** WebSocket close codes (4000–4999 are the application's). */
export const CLOSE = {
  /** The shell ended; reconnecting starts a new one. */
  exited: 4000,
  /** Another tab took the terminal over; do not reconnect on your own. */
  takenOver: 4001,
  /** The tab did not keep up with the output; reconnect and catch up from the replay buffer. */
  tooSlow: 4002,
  /** The lab session ended or was reset: there is no shell to go back to. */
  ended: 4003,
  /** A message did not follow the protocol. */
  protocol: 4400,
} as const;

export const TAKEOVER_MESSAGE = 'This terminal was opened in another tab.';

/** Parses one text frame; the error names what was wrong. */
export function parseClientMessage(text: string): { ok: true; message: ClientMessage } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: 'terminal message: not JSON; send {"type":"input","data":"…"}' };
  }
  const parsed = clientMessage.safeParse(json);
  if (parsed.success) return { ok: true, message: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'type';
  return { ok: false, error: `terminal message: ${where}: ${issue?.message ?? 'invalid'}; expected attach {cols, rows}, input {data} or resize {cols, rows}` };
}
