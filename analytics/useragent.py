"""User agent → device type, browser, OS and bot flag, for the scan row.

ua-parser knows browsers and most crawlers; link-preview fetchers (chat apps, social
networks) are matched here too, because a preview is not a person scanning. Command-line
clients such as curl are people testing their own codes, so they count (device unknown).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ua_parser import parse

UNKNOWN = "unknown"

# Explicit names rather than a bare "bot": phone brands such as CUBOT must not match.
_BOT_PATTERN = re.compile(
    r"\bbot\b|bot/|robot|crawl|spider|slurp|facebookexternalhit|facebookcatalog"
    r"|meta-externalagent|twitterbot|slackbot|whatsapp/|telegrambot|discordbot|linkedinbot"
    r"|googlebot|google-inspectiontool|googleother|adsbot|bingbot|bingpreview|applebot"
    r"|skypeuripreview|redditbot|embedly|quora link preview|vkshare|duckduckbot|petalbot"
    r"|headlesschrome|lighthouse|uptime|mastodon/|iframely|outbrain|semrush|ahrefs|gptbot",
    re.IGNORECASE,
)
_TOOLS = re.compile(r"^(curl|wget|python-httpx|python-requests|httpie|okhttp)/", re.IGNORECASE)
_DESKTOP_OS = frozenset({"Windows", "Mac OS X", "Linux", "Ubuntu", "Chrome OS", "Fedora"})
_FAMILY_ALIASES = {
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome WebView",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari WebView",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "Opera Mobile": "Opera",
    "Samsung Internet": "Samsung Internet",
}


@dataclass(frozen=True)
class Agent:
    device: str  # mobile|tablet|desktop|bot|unknown
    browser: str
    os: str
    is_bot: bool


@lru_cache(maxsize=4096)
def parse_agent(user_agent: str) -> Agent:
    """Classify one User-Agent header; cached because a handful of agents make most scans."""
    text = user_agent.strip()[:1024]
    tool = _TOOLS.match(text)
    if tool:
        return Agent(UNKNOWN, tool.group(1).lower(), UNKNOWN, False)
    result = parse(text)
    browser = _family(result.user_agent.family if result.user_agent else None)
    os_name = _family(result.os.family if result.os else None)
    spider = result.device is not None and result.device.family == "Spider"
    if spider or _BOT_PATTERN.search(text):
        return Agent("bot", browser, os_name, True)
    return Agent(_device(text, os_name), browser, os_name, False)


def _family(name: str | None) -> str:
    if not name or name == "Other":
        return UNKNOWN
    return _FAMILY_ALIASES.get(name, name)


def _device(text: str, os_name: str) -> str:
    if "iPad" in text or "Tablet" in text or "Kindle" in text or "Silk/" in text:
        return "tablet"
    if os_name == "Android":
        # Android phones say "Mobile"; Android tablets leave it out.
        return "mobile" if "Mobile" in text else "tablet"
    if "Mobi" in text or "iPhone" in text or "iPod" in text or os_name == "iOS":
        return "mobile"
    if os_name in _DESKTOP_OS:
        return "desktop"
    return UNKNOWN
