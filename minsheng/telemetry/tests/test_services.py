"""Registering devices: only managers of the project, a credential shown once and stored hashed."""

from __future__ import annotations

import pytest

from minsheng.core.errors import NotFound, PermissionDenied, ValidationFailed
from minsheng.telemetry.models import Device, hash_credential
from minsheng.telemetry.services import device_register, device_rotate_credential


def test_manager_registers_a_device_with_a_hashed_credential(project, org):
    device, raw = device_register(actor=org.user("a_housing"), project=project, device_id="noise-01",
                                  kind="noise", name="东侧围挡噪声")
    assert raw.startswith("dev_") and device.credential_hash == hash_credential(raw) and raw not in str(
        Device.objects.filter(pk=device.pk).values().first())
    new = device_rotate_credential(actor=org.user("a_housing"), device=device)
    device.refresh_from_db()
    assert device.credential_hash == hash_credential(new) != hash_credential(raw)


def test_bad_input_and_duplicates_write_nothing(project, org):
    with pytest.raises(ValidationFailed) as exc:
        device_register(actor=org.user("a_housing"), project=project, device_id="X", kind="radar", name="")
    assert set(exc.value.fields) == {"device_id", "kind", "name"}
    device_register(actor=org.user("a_housing"), project=project, device_id="noise-01", kind="noise", name="a")
    with pytest.raises(ValidationFailed):
        device_register(actor=org.user("a_housing"), project=project, device_id="noise-01", kind="noise", name="b")
    assert Device.objects.count() == 1


def test_others_may_not_register(project, org):
    with pytest.raises(PermissionDenied):
        device_register(actor=org.user("a_leader"), project=project, device_id="noise-02", kind="noise", name="a")
    with pytest.raises(NotFound):
        device_register(actor=org.user("b_housing"), project=project, device_id="noise-03", kind="noise", name="a")
