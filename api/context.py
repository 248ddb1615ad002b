"""What a REST handler reads from the request: the caller (left by ApiGate) and the services."""

from __future__ import annotations

from starlette.requests import Request

from core.accounts import Principal
from core.services import Services


def principal_of(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
