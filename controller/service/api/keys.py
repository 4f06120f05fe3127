"""``/api/v1/keys``: admins create, list and revoke API keys (a key is shown only once)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field

from controller.service import db
from controller.service.api.deps import AdminKey, ServiceDep
from controller.service.auth import ApiKeyError, Role, create_key
from controller.service.store import keys as key_store
from controller.service.store.keys import StoredKey

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])


class KeyOut(BaseModel):
    id: str
    role: Role
    sites: list[str]
    label: str
    created_at: str
    revoked_at: str | None


class KeyIn(BaseModel):
    role: Role
    sites: list[str] = Field(default=[], description="granted parks; empty = every park")
    label: str = ""


class CreatedKey(BaseModel):
    key: str = Field(description="shown once; store it now")
    details: KeyOut


def key_out(stored: StoredKey) -> KeyOut:
    return KeyOut(
        id=stored.id,
        role=Role(stored.role),
        sites=list(stored.sites),
        label=stored.label,
        created_at=stored.created_at.isoformat(),
        revoked_at=stored.revoked_at.isoformat() if stored.revoked_at else None,
    )


@router.get("", response_model=list[KeyOut])
def list_keys(service: ServiceDep, _admin: AdminKey) -> list[KeyOut]:
    with db.read(service.engine) as connection:
        return [key_out(k) for k in key_store.all_keys(connection)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CreatedKey)
def new_key(body: KeyIn, service: ServiceDep, _admin: AdminKey) -> CreatedKey:
    try:
        made = create_key(service.engine, body.role, body.sites, service.parks.ids, body.label)
    except ApiKeyError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return CreatedKey(key=made.token, details=key_out(made.stored))


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_key(key_id: str, service: ServiceDep, _admin: AdminKey) -> Response:
    with db.write(service.engine) as connection:
        revoked = key_store.revoke(connection, key_id)
    if not revoked:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no active key {key_id!r}")
    service.keys.forget()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
