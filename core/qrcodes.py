"""The QR service: the one place that decides generation, limits, persistence and updates.

REST handlers and GraphQL resolvers translate to and from these calls and nothing else.
Rendering is CPU work, so it leaves the event loop on purpose.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from redis.exceptions import RedisError
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

import render
from core.accounts import Principal
from core.config import Settings
from core.destinations import check_destination, storable_text_problem
from core.errors import Conflict, FieldProblem, Invalid, NotFound, Unavailable, invalid_field
from core.link_options import link_columns
from core.links import LINK_COLUMNS, LinkTarget, entry_of
from core.models import Account, Domain, QrCode, is_id, new_id
from core.qrviews import GeneratedQr, QrPage, QrView, decode_cursor, encode_cursor, to_view
from core.quota import check_room, take_dynamic_slot, take_generations
from core.render_slots import RenderSlots, default_concurrency
from core.shortcodes import new_short_code, short_url

log = logging.getLogger(__name__)

QR_TYPES = ("static", "dynamic")
MAX_NAME = 200
_CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class GenerateSpec:
    data: object
    type: str = "static"
    format: str = "png"
    size: int = 512
    margin: int = 4
    error_correction: str = "M"
    name: str | None = None
    style: Mapping[str, Any] | None = None
    # Dynamic codes only: link options as sent (core.link_input) and a verified domain.
    link: Mapping[str, Any] = field(default_factory=dict)
    domain: str | None = None


class LinkPublisher(Protocol):
    async def publish_change(self, target: LinkTarget) -> None: ...

    async def publish_domain(self, hostname: str, *, stale_links: Sequence[str] = ()) -> None: ...


class QrService:
    def __init__(self, settings: Settings, links: LinkPublisher) -> None:
        self._settings = settings
        self._links = links
        self.renders = RenderSlots(settings.render_concurrency or default_concurrency())

    @property
    def links(self) -> LinkPublisher:
        return self._links

    async def generate(self, principal: Principal, spec: GenerateSpec) -> GeneratedQr:
        _check_spec(spec)
        dynamic = spec.type == "dynamic"
        await check_room(principal.account_id, principal.tier, dynamic=dynamic)
        columns = await link_columns(spec.link, principal.tier)
        domain = await _verified_domain(principal, spec.domain) if spec.domain else ""
        for _ in range(_CODE_ATTEMPTS):
            code = new_short_code() if dynamic else None
            image, request = await self._render(spec, code, domain)
            try:
                row = await self._store(principal, spec, code, request, image, columns, domain)
            except IntegrityError:
                if code is None:
                    raise
                continue  # the short code collided: draw another one
            view = to_view(row, self._settings.redirect_base_url)
            if code is not None:
                await self._announce(row, created=True)
            return GeneratedQr(view, image.content, image.mime_type)
        raise RuntimeError("could not allocate a unique short code")

    async def get(self, principal: Principal, qr_id: str) -> QrView:
        return self._view(await _owned(principal, qr_id))

    async def page(self, principal: Principal, first: int, after: str | None) -> QrPage:
        if not 1 <= first <= 100:
            raise invalid_field("first", f"first is {first}; expected 1..100.")
        query = QrCode.filter(account_id=principal.account_id, deleted_at__isnull=True)
        if after:
            stamp, qr_id = decode_cursor(after)
            query = query.filter(Q(created_at__lt=stamp) | Q(created_at=stamp, id__lt=qr_id))
        rows = await query.order_by("-created_at", "-id").limit(first + 1)
        views = tuple(to_view(row, self._settings.redirect_base_url) for row in rows[:first])
        end = encode_cursor(views[-1]) if views else None
        return QrPage(views, end, len(rows) > first)

    async def update_destination(self, principal: Principal, qr_id: str, url: object) -> QrView:
        return await self.update(principal, qr_id, {"destination": url}, destination_field="url")

    async def update(
        self,
        principal: Principal,
        qr_id: str,
        changes: Mapping[str, Any],
        *,
        destination_field: str = "destination",
    ) -> QrView:
        """PATCH semantics: only the fields in `changes` change; `None` removes an option."""
        row = await _owned(principal, qr_id)
        if row.type != "dynamic" and set(changes) - {"name"}:
            raise _static(qr_id)
        updates = {"name": _name(changes["name"])} if "name" in changes else {}
        if "destination" in changes:
            updates["destination"] = check_destination(changes["destination"], destination_field)
        link = {key: value for key, value in changes.items() if key not in ("name", "destination")}
        updates.update(await link_columns(link, principal.tier))
        if not updates:
            return self._view(row)
        # Conditional: a link deleted meanwhile stays deleted (and is announced as such).
        saved = await QrCode.filter(id=row.id, deleted_at__isnull=True).update(
            **updates, updated_at=datetime.now(UTC)
        )
        if not saved:
            raise _not_found(qr_id)
        row = await _owned(principal, qr_id)
        if row.type == "dynamic" and set(updates) != {"name"}:
            await self._announce(row)
        return self._view(row)

    async def delete(self, principal: Principal, qr_id: str) -> None:
        """Soft delete: the code answers 410 from now on, its short code is never reused,
        its dynamic slot is free again and its scans stay."""
        row = await _owned(principal, qr_id, deleted=True)
        now = datetime.now(UTC)
        async with in_transaction():
            gone = await QrCode.filter(id=row.id, deleted_at__isnull=True).update(
                deleted_at=now, updated_at=now
            )
            if gone and row.type == "dynamic":
                await Account.filter(id=row.account_id, dynamic_qr_count__gt=0).update(
                    dynamic_qr_count=F("dynamic_qr_count") - 1
                )
        if row.type == "dynamic":
            # Also when it was deleted already: a retry after a 503 reaches the redirectors.
            await row.refresh_from_db()
            await self._announce(row)
        if not gone:
            raise _not_found(qr_id)

    def _view(self, row: QrCode) -> QrView:
        return to_view(row, self._settings.redirect_base_url)

    async def _announce(self, row: QrCode, *, created: bool = False) -> None:
        """Tell the redirectors; the row is already saved, so a failure is never a 500."""
        try:
            await self._links.publish_change(await _target(row))
        except (RedisError, OSError) as exc:
            if created:
                # No redirector can hold an older answer for a new code beyond its 1 s miss
                # cache, and a retry would create a second code: report success.
                log.warning("new code %s not announced (%s)", row.short_code, exc)
                return
            raise Unavailable(
                f"QR code {row.id} is saved, but the redirectors could not be told yet "
                f"({type(exc).__name__}); repeat the request to make sure they are."
            ) from None

    async def _render(
        self, spec: GenerateSpec, code: str | None, domain: str
    ) -> tuple[render.RenderedImage, render.RenderRequest]:
        base = self._settings.redirect_base_url
        content = spec.data if code is None else short_url(base, code, domain)
        try:
            # Parsing decodes and checks logos: CPU work too, so it leaves the loop as well.
            return await self.renders.run(lambda: _parse_and_render(spec, content))
        except render.RenderError as exc:
            raise _from_render_error(exc, dynamic=code is not None) from None

    async def _store(
        self,
        principal: Principal,
        spec: GenerateSpec,
        code: str | None,
        request: render.RenderRequest,
        image: render.RenderedImage,
        columns: Mapping[str, Any],
        domain: str,
    ) -> QrCode:
        async with in_transaction():
            await take_generations(principal.account_id, principal.tier)
            if code is not None:
                await take_dynamic_slot(principal.account_id, principal.tier)
            return await QrCode.create(
                id=new_id("qr"),
                account_id=principal.account_id,
                type=spec.type,
                data=request.data,
                short_code=code,
                destination=str(spec.data).strip() if code is not None else None,
                format=request.format,
                size=request.size,
                margin=request.margin,
                error_correction=image.error_correction,
                style=render.style_to_json(request.style),
                name=spec.name,
                domain=domain if code is not None else "",
                **columns,
            )


def _parse_and_render(
    spec: GenerateSpec, content: object
) -> tuple[render.RenderedImage, render.RenderRequest]:
    request = render.parse_request(
        content, spec.format, spec.size, spec.margin, spec.error_correction, spec.style
    )
    return render.render_cached(request), request


def _check_spec(spec: GenerateSpec) -> None:
    if spec.type not in QR_TYPES:
        raise invalid_field("type", f"type is {spec.type!r}; expected 'static' or 'dynamic'.")
    _name(spec.name)
    if spec.type == "dynamic":
        check_destination(spec.data, "data")  # a bad destination is unsafe_url, whatever it is
    elif spec.link or spec.domain:
        option = next(iter(spec.link), "domain")
        raise invalid_field(option, f"{option} is a dynamic link option; this code is static.")
    problem = storable_text_problem(spec.data) if isinstance(spec.data, str) else None
    if problem:
        raise invalid_field("data", f"data {problem}.")


def _from_render_error(exc: render.RenderError, *, dynamic: bool) -> Invalid:
    details = [FieldProblem(issue.field, issue.message) for issue in exc.details]
    if dynamic and exc.code == "data_too_long":
        details = [FieldProblem("data", "The short link does not fit at this level.")]
    return Invalid(exc.message, code=exc.code, details=details)


async def _owned(principal: Principal, qr_id: str, *, deleted: bool = False) -> QrCode:
    """The account's QR code; a deleted one only when asked for (`deleted=True`)."""
    row = None
    if is_id(qr_id, "qr"):
        row = await QrCode.get_or_none(id=qr_id, account_id=principal.account_id)
    if row is None or (row.deleted_at is not None and not deleted):
        raise _not_found(qr_id)
    return row


def _not_found(qr_id: str) -> NotFound:
    return NotFound(f"No QR code with id {qr_id!r} in this account.")


def _static(qr_id: str) -> Conflict:
    return Conflict(
        f"QR code {qr_id} is static: its data is printed in the image and cannot be "
        "redirected; only dynamic QR codes have a destination and link options.",
        code="not_dynamic",
    )


def _name(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise invalid_field("name", "Expected a string or null.")
    if value is not None and len(value) > MAX_NAME:
        raise invalid_field("name", f"name has {len(value)} characters; at most {MAX_NAME}.")
    problem = storable_text_problem(value) if value else None
    if problem:
        raise invalid_field("name", f"name {problem}.")
    return value


async def _verified_domain(principal: Principal, hostname: str) -> str:
    host = hostname.strip().lower().rstrip(".")
    if not await Domain.exists(account_id=principal.account_id, verified_hostname=host):
        raise invalid_field(
            "domain",
            f"{hostname[:80]!r} is not a verified domain of this account; add it with "
            "POST /domains and verify it first.",
        )
    return host


async def _target(row: QrCode) -> LinkTarget:
    assert row.short_code is not None
    assert row.destination is not None
    return await entry_of({name: getattr(row, name) for name in LINK_COLUMNS})
