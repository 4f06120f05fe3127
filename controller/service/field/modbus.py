"""One Modbus TCP device: block reads of its read points, writes with read-back of the same
registers. Every call is bounded by the device's timeout, so a dead device costs at most that
and never holds up another device (each is polled in its own task)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from controller.service.field.devicemap import Device, Point

MAX_BLOCK = 120
"""Registers per read request (the protocol allows 125)."""


class DeviceError(Exception):
    """The device did not answer (``answered`` False) or answered with an exception code."""

    def __init__(self, message: str, answered: bool = False) -> None:
        super().__init__(message)
        self.answered = answered


def blocks(points: Sequence[Point]) -> list[tuple[int, int, list[Point]]]:
    """Contiguous-enough read requests: (first register, count, points in it)."""
    out: list[tuple[int, int, list[Point]]] = []
    for point in sorted(points, key=lambda p: p.address or 0):
        start = point.address or 0
        end = start + point.data_type.registers
        if out and end - out[-1][0] <= MAX_BLOCK:
            first, _, members = out[-1]
            out[-1] = (first, max(end - first, out[-1][1]), [*members, point])
        else:
            out.append((start, end - start, [point]))
    return out


class ModbusLink:
    def __init__(self, device: Device) -> None:
        assert device.modbus is not None
        self.device = device
        self.address = device.modbus
        self._client: AsyncModbusTcpClient | None = None
        self._blocks = blocks(device.reads)

    @property
    def where(self) -> str:
        return f"modbus {self.address.host}:{self.address.port} unit {self.address.unit_id}"

    async def _connected(self) -> AsyncModbusTcpClient:
        client = self._client
        if client is not None and client.connected:
            return client
        self.close()
        timeout = self.address.timeout_s
        client = AsyncModbusTcpClient(
            self.address.host,
            port=self.address.port,
            timeout=timeout,
            retries=0,
            reconnect_delay=0,
        )
        try:
            connected = await asyncio.wait_for(client.connect(), timeout)
        except (TimeoutError, OSError, ModbusException) as exc:
            client.close()
            raise DeviceError(f"{self.where} does not answer: {type(exc).__name__}") from None
        if not connected:
            client.close()
            raise DeviceError(f"{self.where} refuses the connection")
        self._client = client
        return client

    async def _registers(self, first: int, count: int) -> list[int]:
        client = await self._connected()
        try:
            response = await asyncio.wait_for(
                client.read_holding_registers(first, count=count, device_id=self.address.unit_id),
                self.address.timeout_s,
            )
        except (TimeoutError, OSError, ModbusException) as exc:
            self.close()
            raise DeviceError(f"{self.where} does not answer: {type(exc).__name__}") from None
        if response.isError():
            raise DeviceError(
                f"{self.where} answers registers {first}..{first + count - 1} with {response}",
                answered=True,
            )
        return list(response.registers)

    async def read_all(self) -> dict[str, list[int]]:
        """The registers of every read point, by point name."""
        found: dict[str, list[int]] = {}
        for first, count, members in self._blocks:
            registers = await self._registers(first, count)
            for point in members:
                offset = (point.address or 0) - first
                found[point.name] = registers[offset : offset + point.data_type.registers]
        return found

    async def read_point(self, point: Point) -> list[int]:
        return await self._registers(point.address or 0, point.data_type.registers)

    async def write(self, address: int, registers: list[int]) -> None:
        """Write ``registers`` at ``address``; DeviceError(answered=True) when refused."""
        client = await self._connected()
        try:
            response = await asyncio.wait_for(
                client.write_registers(address, registers, device_id=self.address.unit_id),
                self.address.timeout_s,
            )
        except (TimeoutError, OSError, ModbusException) as exc:
            self.close()
            raise DeviceError(f"{self.where} does not answer: {type(exc).__name__}") from None
        if response.isError():
            raise DeviceError(f"{self.where} refuses the write: {response}", answered=True)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
