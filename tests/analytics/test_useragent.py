from __future__ import annotations

import pytest

from analytics.useragent import Agent, parse_agent

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0"
)
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
CUBOT_PHONE = (
    "Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
)


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (IPHONE, Agent("mobile", "Safari", "iOS", False)),
        (ANDROID, Agent("mobile", "Chrome", "Android", False)),
        (CUBOT_PHONE, Agent("mobile", "Chrome", "Android", False)),
        (ANDROID_TABLET, Agent("tablet", "Chrome", "Android", False)),
        (IPAD, Agent("tablet", "Safari", "iOS", False)),
        (FIREFOX_WINDOWS, Agent("desktop", "Firefox", "Windows", False)),
        (EDGE_WINDOWS, Agent("desktop", "Edge", "Windows", False)),
        (CHROME_MAC, Agent("desktop", "Chrome", "Mac OS X", False)),
        ("curl/8.5.0", Agent("unknown", "curl", "unknown", False)),
        ("python-httpx/0.27.0", Agent("unknown", "python-httpx", "unknown", False)),
        ("", Agent("unknown", "unknown", "unknown", False)),
    ],
)
def test_people_are_classified(user_agent: str, expected: Agent) -> None:
    assert parse_agent(user_agent) == expected


@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "WhatsApp/2.23.20.0 A",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Slackbot 1.0 (+https://api.slack.com/robots)",
        "Twitterbot/1.0",
        "TelegramBot (like TwitterBot)",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko)"
        " Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " SkypeUriPreview Preview/0.5",
    ],
)
def test_crawlers_and_link_previews_are_bots(user_agent: str) -> None:
    agent = parse_agent(user_agent)
    assert agent.is_bot
    assert agent.device == "bot"


def test_parse_is_cached() -> None:
    assert parse_agent(IPHONE) is parse_agent(IPHONE)
