"""Where a link's rules and split send a request, remembered per link version and request.

`core.routing.route` answers the same for the same policy, visitor and request facts
(`Visit.key`), and for a policy with time rules within the same minute. So the redirector
keeps the answers of recent requests, bounded for the whole process (not per link: a
process may hold tens of thousands of links), and a returning visitor or a repeated
request profile costs one dictionary lookup instead of the lookups and the rules.
"""

from __future__ import annotations

from collections.abc import Hashable

from core.routing import Decision, LinkPolicy, Visit, route

MAX_ENTRIES = 32_768


class RouteCache:
    """A `core.routing.Router`; the entry's key and version are part of each visit's key."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max_entries = max_entries
        self._answers: dict[Hashable, Decision] = {}

    def __call__(self, policy: LinkPolicy, visit: Visit) -> Decision:
        key = (visit.key, int(visit.now // 60)) if policy.timed else visit.key
        found = self._answers.get(key)
        if found is None:
            found = route(policy, visit)
            if len(self._answers) >= self._max_entries:
                self._answers.clear()  # cheaper than LRU upkeep; refills in a moment
            self._answers[key] = found
        return found
