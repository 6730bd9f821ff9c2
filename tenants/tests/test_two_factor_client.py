"""ThingsBoard's own client (tb-pe-client) on the real server through a two-factor login: the system administrator
enables TOTP and backup codes, a tenant administrator sets TOTP up, then logs in with a pre-verification token,
asks for its providers and trades a TOTP code for a working token pair. Reuses tests/test_tb_client.py's server."""

import pyotp
import pytest
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import PlatformTwoFaSettings, TwoFaAccountConfigUpdateRequest, TwoFaProviderType

from tenants.tests.two_factor_helpers import SETTINGS, secret_of
from tests.test_tb_client import EMAIL, PASSWORD, SYSADMIN, SYSADMIN_PASSWORD, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server


def _client(url, **kwargs):
    from tb_pe_client.client import ThingsboardClient

    return ThingsboardClient(url, retry_on_rate_limit=False, **kwargs)


def test_a_two_factor_login_through_the_client(server_url):  # noqa: F811
    with _client(server_url, username=SYSADMIN, password=SYSADMIN_PASSWORD) as root, \
            _client(server_url, username=EMAIL, password=PASSWORD) as tenant:
        assert root.get_platform_two_fa_settings() is None  # before 2FA is configured: an empty answer
        assert tenant.get_account_two_fa_settings().configs == {}
        with pytest.raises(ApiException) as caught:
            tenant.get_available_two_fa_provider_infos()  # a normal token is no pre-verification token
        assert caught.value.status == 403
        saved = root.save_platform_two_fa_settings(PlatformTwoFaSettings.from_dict(SETTINGS))
        assert [p.provider_type for p in saved.providers] == ["TOTP", "EMAIL", "BACKUP_CODE"]
        assert root.get_platform_two_fa_settings().total_allowed_time_for_verification == 600
        try:
            assert tenant.get_available_two_fa_provider_types() == ["TOTP", "EMAIL", "BACKUP_CODE"]
            config = tenant.generate_two_fa_account_config("TOTP")
            secret = secret_of(config.auth_url)
            settings = tenant.verify_and_save_two_fa_account_config(config, pyotp.TOTP(secret).now())
            assert settings.configs["TOTP"].use_by_default and secret not in settings.configs["TOTP"].auth_url
            backup = tenant.generate_two_fa_account_config("BACKUP_CODE")
            settings = tenant.verify_and_save_two_fa_account_config(backup)
            assert settings.configs["BACKUP_CODE"].codes_left == 10
            settings = tenant.update_two_fa_account_config(TwoFaProviderType.BACKUP_CODE,
                                                           TwoFaAccountConfigUpdateRequest(use_by_default=False))
            assert settings.configs["TOTP"].use_by_default
            assert tenant.get_account_two_fa_settings().configs["BACKUP_CODE"].codes_left == 10

            with _client(server_url, username=EMAIL, password=PASSWORD) as pre:
                infos = pre.get_available_two_fa_provider_infos()
                assert [(i.type, i.default) for i in infos] == [("TOTP", True), ("BACKUP_CODE", False)]
                with pytest.raises(ApiException) as caught:
                    pre.get_tenant_devices(page_size=10, page=0)
                assert caught.value.status == 403
                pre.request_two_fa_verification_code(TwoFaProviderType.TOTP)
                with pytest.raises(ApiException) as caught:
                    pre.check_two_fa_verification_code(TwoFaProviderType.TOTP, "000000")
                assert caught.value.status == 400
                pair = pre.check_two_fa_verification_code(TwoFaProviderType.TOTP, pyotp.TOTP(secret).now())
            with _client(server_url, token=pair.token, refresh_token=pair.refresh_token) as full:
                assert full.get_tenant_devices(page_size=10, page=0).total_elements >= 0
            settings = tenant.delete_two_fa_account_config(TwoFaProviderType.TOTP)
            settings = tenant.delete_two_fa_account_config(TwoFaProviderType.BACKUP_CODE)
            assert not settings.configs
        finally:
            root.save_platform_two_fa_settings(PlatformTwoFaSettings.from_dict({**SETTINGS, "providers": []}))
