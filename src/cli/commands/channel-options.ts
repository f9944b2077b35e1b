// The channel command's words and flags, shared by its registration (channel.ts) and its
// lazily loaded action (channel-action.ts) without either importing the other back.
export const CHANNEL_ACTIONS = ['rotate-token', 'delete', 'respond'] as const;
export type ChannelAction = (typeof CHANNEL_ACTIONS)[number];

export interface ChannelCliOptions {
  relay?: string;
  channel?: string;
  token?: string;
  json: boolean;
  /** respond: the answer while no listener is connected. */
  status?: number;
  delay?: number;
  body?: string;
  contentType?: string;
  reset?: boolean;
}
