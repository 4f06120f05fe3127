"""``/api/v1/keys``: admins create, list and revoke API keys (a key is shown only once)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Response, status
from fastapi import Path as PathParam
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

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


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL byte (\\u0000)")
    return value


Label = Annotated[str, AfterValidator(_no_nul), Field(max_length=200)]
ParkId = Annotated[str, AfterValidator(_no_nul), Field(max_length=48)]


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    sites: list[ParkId] = Field(
        default=[], max_length=1000, description="granted parks; empty = every park"
    )
    label: Label = Field(default="", description="what the key is for (at most 200 characters)")


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


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "no active key of that id"}},
)
def revoke_key(
    key_id: Annotated[
        str, PathParam(pattern=r"^[0-9a-f]{1,16}$", description="the key's public id (hex)")
    ],
    service: ServiceDep,
    _admin: AdminKey,
) -> Response:
    with db.write(service.engine) as connection:
        revoked = key_store.revoke(connection, key_id)
    if not revoked:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no active key {key_id!r}")
    service.keys.forget()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
