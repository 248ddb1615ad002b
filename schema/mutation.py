"""Mutation root: each field is one service call between input and output translation.

Payloads are nullable (the contract prints them non-null): each mutation is charged a
rate-limit token, and a refused or failed one must not null its siblings' results, so a
client that aliases several mutations always learns what was created. See docs/limits.md.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from core.bulk import bulk_generate
from core.webhooks.service import delete_endpoint, register_endpoint, set_endpoint_enabled
from schema.account_types import (
    RegisteredScanEndpoint,
    ScanEndpoint,
    registered_endpoint,
    scan_endpoint,
)
from schema.context import GraphQLContext, principal_of, services_of
from schema.fields import mutation
from schema.inputs import GenerateQrInput, UpdateQrInput, item_spec, to_spec, update_changes
from schema.link_types import Domain, domain
from schema.qr_types import (
    BulkGenerateResult,
    GeneratedQr,
    QrCode,
    bulk_result,
    generated_qr,
    qr_code,
)

Ctx = Info[GraphQLContext, None]


@strawberry.type
class Mutation:
    @mutation("Generate one QR code (POST /qr/generate).")
    async def generate_qr(self, info: Ctx, input: GenerateQrInput) -> GeneratedQr | None:
        result = await services_of(info).qr.generate(principal_of(info), to_spec(input))
        return generated_qr(result)

    @mutation("1..50 items, ultra or mega; each item succeeds or fails alone.")
    async def bulk_generate_qrs(
        self, info: Ctx, items: list[GenerateQrInput]
    ) -> BulkGenerateResult | None:
        found = await bulk_generate(services_of(info).qr, principal_of(info), items, item_spec)
        return bulk_result(found)

    @mutation("Point a dynamic QR code elsewhere; the next scan goes there.")
    async def update_qr_destination(self, info: Ctx, id: strawberry.ID, url: str) -> QrCode | None:
        view = await services_of(info).qr.update_destination(principal_of(info), str(id), url)
        return qr_code(view)

    @mutation("Change a QR code (PATCH /qr/{id}): what is given changes, null removes an option.")
    async def update_qr(self, info: Ctx, id: strawberry.ID, input: UpdateQrInput) -> QrCode | None:
        changes = update_changes(input)
        view = await services_of(info).qr.update(principal_of(info), str(id), changes)
        return qr_code(view)

    @mutation("Soft-delete a QR code (DELETE /qr/{id}): its short link answers 410 for good.")
    async def delete_qr(self, info: Ctx, id: strawberry.ID) -> bool | None:
        await services_of(info).qr.delete(principal_of(info), str(id))
        return True

    @mutation("Add a custom short domain, unverified (POST /domains).")
    async def add_domain(self, info: Ctx, hostname: str) -> Domain | None:
        return domain(await services_of(info).domains.add(principal_of(info), hostname))

    @mutation("Check the domain's proof through the domain itself (POST /domains/{id}/verify).")
    async def verify_domain(self, info: Ctx, id: strawberry.ID) -> Domain | None:
        return domain(await services_of(info).domains.verify(principal_of(info), str(id)))

    @mutation("Remove a domain without live codes (DELETE /domains/{id}).")
    async def delete_domain(self, info: Ctx, id: strawberry.ID) -> bool | None:
        await services_of(info).domains.delete(principal_of(info), str(id))
        return True

    @mutation("Mega tier; the answer is the only time `secret` is shown.")
    async def register_scan_endpoint(
        self, info: Ctx, url: str, description: str | None = strawberry.UNSET
    ) -> RegisteredScanEndpoint | None:
        principal = principal_of(info)
        registered = await register_endpoint(
            services_of(info).settings,
            principal.tier,
            principal.account_id,
            url,
            description or None,
        )
        return registered_endpoint(registered)

    @mutation(
        "Turn a scan endpoint on (mega tier; clears its failure history) or off (any tier) "
        "(PATCH /webhooks/scan-endpoints/{id})."
    )
    async def update_scan_endpoint(
        self, info: Ctx, id: strawberry.ID, enabled: bool
    ) -> ScanEndpoint | None:
        principal = principal_of(info)
        view = await set_endpoint_enabled(principal.tier, principal.account_id, str(id), enabled)
        return scan_endpoint(view)

    @mutation("Delete a scan endpoint (any tier); someone else's or unknown: not_found.")
    async def delete_scan_endpoint(self, info: Ctx, id: strawberry.ID) -> bool | None:
        await delete_endpoint(principal_of(info).account_id, str(id))
        return True
