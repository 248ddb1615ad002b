"""The few pages a person can meet on the redirect domain: small, accessible, no JavaScript.

Each is a complete HTML document with its language, a viewport for phones, one heading and
readable contrast. The password form posts back to the very URL that was scanned (query
string included, so forwarded parameters survive) and labels its one field; an error is
announced to screen readers (`role="alert"`) and tied to the field.
"""

from __future__ import annotations

from html import escape

_STYLE = (
    "body{font:1.1rem/1.5 system-ui,sans-serif;margin:0;padding:2rem 1rem;color:#1a1a1a;"
    "background:#fff}main{max-width:28rem;margin:0 auto}h1{font-size:1.5rem}"
    "label{display:block;font-weight:600;margin:1rem 0 .25rem}"
    "input{font:inherit;width:100%;box-sizing:border-box;padding:.6rem;border:2px solid #555;"
    "border-radius:.3rem}input:focus,button:focus{outline:3px solid #1a56db;outline-offset:2px}"
    "button{font:inherit;margin-top:1rem;padding:.6rem 1.2rem;border:0;border-radius:.3rem;"
    "background:#1a56db;color:#fff;cursor:pointer}.error{color:#a40000;font-weight:600}"
)

GONE_MESSAGES = {
    "paused": ("This link is paused", "Its owner has paused it for now. Try again later."),
    "expired": ("This link has expired", "It was only valid until a set date."),
    "exhausted": ("This link has reached its limit", "It could only be opened so many times."),
    "deleted": ("This link no longer exists", "Its owner has deleted it."),
}


def document(title: str, body: str) -> bytes:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    ).encode()


NOT_FOUND = document("Not found", "<h1>Not found</h1><p>This QR code link does not exist.</p>")


def gone_page(reason: str) -> bytes:
    heading, detail = GONE_MESSAGES.get(reason, GONE_MESSAGES["deleted"])
    return document(heading, f"<h1>{escape(heading)}</h1><p>{escape(detail)}</p>")


def password_page(action: str, error: str | None = None) -> bytes:
    """`action`: the scanned path and query, posted back to as is."""
    described = ' aria-describedby="error" aria-invalid="true"' if error else ""
    alert = f'<p id="error" class="error" role="alert">{escape(error)}</p>' if error else ""
    return document(
        "Password required",
        "<h1>Password required</h1><p>The owner of this link protected it with a password."
        f"</p>{alert}"
        f'<form method="post" action="{escape(action, quote=True)}">'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" required autofocus '
        f'autocomplete="current-password" maxlength="128"{described}>'
        '<button type="submit">Open the link</button></form>',
    )
