// The child namespace's event names, the widget's half of chatbot/gateway/protocol.py (docs/protocol.md).
// One module, so a rename cannot miss a use; tests/chatbot/widget/test_widget_modules.py holds these
// against protocol.py, both ways. The other modules never write an event name as a string.

// Client to server.
export const SESSION_REQUEST = "session_request";
export const USER_UTTERED = "user_uttered";
export const RESUME = "resume"; // not sent by this widget: session_request carries last_seq
export const END_SESSION = "end_session";
export const SET_LOCALE = "set_locale";
export const TYPING = "typing"; // both ways
export const UPLOAD_REQUEST = "upload_request";
export const LEAVE_REQUEST = "leave_request";
export const RESUME_CODE = "resume_code";

// Server to client.
export const SESSION_CONFIRM = "session_confirm";
export const SESSION_STATE = "session_state";
export const BOT_UTTERED = "bot_uttered";
export const HISTORY = "history";
export const TURN = "turn";
export const MESSAGE_ACK = "message_ack";
export const ERROR = "error";
export const SESSION_ENDED = "session_ended";
export const UPLOAD_GRANT = "upload_grant";
export const RETURN_CODE = "return_code";

// session_request with `extensions: EXTENSIONS_VERSION` asks for the extended, compact protocol;
// without it the gateway speaks Rasa's socket.io channel.
export const EXTENSIONS_VERSION = 1;
