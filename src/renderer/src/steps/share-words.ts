/** Words in a Keyrite share (format version 1, docs/formats.md "Share format"). */
export const SHARE_WORDS = 33;
