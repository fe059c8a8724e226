// @ts-check
// The shapes the web client's modules pass around, for the type check
// (`npm run typecheck` in tests/browser) and editors. Only JSDoc: no module
// imports this at run time (`import('../types.js').Message` in a comment is
// read by TypeScript alone). The server's side of each is named; the JSON is
// described in docs/protocol.md and the OpenAPI document.

/**
 * An API failure's JSON body (error.rs on the server).
 * @typedef {object} ApiErrorBody
 * @property {string} code stable, for programs
 * @property {string} message Russian
 * @property {string} [message_en] English
 * @property {number} [retry_after] seconds, on `rate_limited`
 */

/**
 * @typedef {object} Author
 * @property {number} person
 * @property {string} name «Фамилия Имя Отчество»
 */

/**
 * The message a reply quotes (storage ReplyPreview).
 * @typedef {object} ReplyPreview
 * @property {number} id
 * @property {string} author_name
 * @property {string} preview
 * @property {boolean} deleted
 */

/**
 * @typedef {object} Reaction
 * @property {string} emoji
 * @property {number[]} people who reacted, in order
 */

/**
 * A message as a chat member sees it (storage MessageView). Poll, consent
 * form, call record and attachments are their own modules' business.
 * @typedef {object} Message
 * @property {number} id
 * @property {number} [chat]
 * @property {number} seq
 * @property {Author} author
 * @property {string} text empty once deleted
 * @property {ReplyPreview | null} [reply_to]
 * @property {number[]} [mentions]
 * @property {number} created_at unix seconds
 * @property {number | null} [edited_at]
 * @property {boolean} deleted
 * @property {{ reason?: string }} [hidden] a moderator hid it
 * @property {boolean} [pinned]
 * @property {boolean} [urgent]
 * @property {Reaction[]} [reactions]
 * @property {string} [client_id] the author's own sends only
 * @property {any[]} [attachments]
 * @property {any} [call]
 * @property {any} [poll]
 * @property {any} [consent]
 */

/**
 * @typedef {object} LastMessage
 * @property {number} id
 * @property {string} author_name
 * @property {number} [author] the author's person id, when an event said it
 * @property {string} preview
 * @property {number} at unix seconds
 * @property {boolean} deleted
 * @property {any} [call]
 */

/**
 * A chat in the messenger's list (storage ChatSummary), kept current by events.
 * @typedef {object} ChatSummary
 * @property {number} id
 * @property {number} org
 * @property {string} org_name
 * @property {string} kind `staff_room`, `class`, `parents`, `subject`, `custom` or `direct`
 * @property {string} name for a direct chat, the other person's
 * @property {string} description
 * @property {number} me the viewer's person id in this chat
 * @property {boolean} admin
 * @property {boolean} announcement_only
 * @property {boolean} read_only archived: history only
 * @property {number} members
 * @property {number} last_seq
 * @property {number} last_read_seq
 * @property {number} others_read_seq the furthest any other member has read
 * @property {number} unread
 * @property {LastMessage | null} last_message
 */

/**
 * A chat's loaded history in the store.
 * @typedef {object} ChatData
 * @property {Message[]} messages oldest first
 * @property {Map<number, Message>} byId
 * @property {boolean} hasMore older messages exist before the first
 * @property {boolean} loadingOlder
 * @property {Message[] | null} pins null until loaded
 * @property {any} error the last load's failure
 * @property {boolean} [failed] the first load failed: there is no history
 */

/**
 * A send not acknowledged yet (kept in localStorage across reloads).
 * @typedef {object} OutboxItem
 * @property {string} client_id the idempotency key
 * @property {number} chat
 * @property {string} text
 * @property {any[]} attachments
 * @property {number[]} mentions
 * @property {boolean} urgent
 * @property {number | null} reply_to
 * @property {ReplyPreview | null} reply
 * @property {number} created_at unix seconds
 * @property {'sending' | 'waiting' | 'sent' | 'failed'} state
 * @property {ApiErrorBody | null} error
 * @property {number} [message_id] once acknowledged or matched
 * @property {number} [seq]
 */

/**
 * A frame from the messenger socket (docs/protocol.md); `type` says which
 * of the other fields it has.
 * @typedef {object} Frame
 * @property {string} type
 * @property {number} [chat]
 * @property {number} [seq]
 * @property {any} [event] on `event`: `{kind, ...}`
 * @property {number[]} [chats] on `ready`
 * @property {string} [client_id]
 * @property {number} [message_id]
 * @property {number} [person]
 * @property {string} [name]
 * @property {string} [code]
 * @property {string} [message]
 * @property {string} [message_en]
 * @property {number} [retry_after]
 */

/**
 * What changed, as the store tells its listeners: `list` (the chat list),
 * `chat` (one chat's history or state), `typing`, `reminder`.
 * @typedef {object} StoreChange
 * @property {'list' | 'chat' | 'typing' | 'reminder'} kind
 * @property {number} [chat]
 * @property {any} [event] the applied event
 * @property {boolean} [loaded]
 * @property {boolean} [older]
 * @property {boolean} [read]
 * @property {string} [sent] the client_id of a new send
 * @property {Frame} [frame] a reminder's
 */

export {};
