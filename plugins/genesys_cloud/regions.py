"""The real Genesys Cloud regions (SDK ``purecloud_region_hosts.py``): domain -> API and login hosts."""

from __future__ import annotations

from dataclasses import dataclass

from genesys_cloud.exceptions import GenesysConfigError

# SDK region key -> region domain. The API host is ``api.<domain>``, the token host ``login.<domain>``.
REGION_DOMAINS: dict[str, str] = {
    "us_east_1": "mypurecloud.com",
    "eu_west_1": "mypurecloud.ie",
    "ap_southeast_2": "mypurecloud.com.au",
    "ap_northeast_1": "mypurecloud.jp",
    "eu_central_1": "mypurecloud.de",
    "us_west_2": "usw2.pure.cloud",
    "ca_central_1": "cac1.pure.cloud",
    "ap_northeast_2": "apne2.pure.cloud",
    "eu_west_2": "euw2.pure.cloud",
    "ap_south_1": "aps1.pure.cloud",
    "us_east_2": "use2.us-gov-pure.cloud",
    "sa_east_1": "sae1.pure.cloud",
    "me_central_1": "mec1.pure.cloud",
    "ap_northeast_3": "apne3.pure.cloud",
    "eu_central_2": "euc2.pure.cloud",
    "mx_central_1": "mxc1.pure.cloud",
    "ap_southeast_1": "apse1.pure.cloud",
    "eusc_de_east_1": "edee1.eusc-pure.cloud",
}


@dataclass(frozen=True)
class Region:
    domain: str
    api_base_url: str
    login_base_url: str


def resolve_region(value: str) -> Region:
    """Map a region domain (``mypurecloud.ie``) or SDK key (``eu_west_1``) to its hosts; reject anything else."""
    key = (value or "").strip().lower().rstrip("/")
    domain = REGION_DOMAINS.get(key, key)
    if domain not in REGION_DOMAINS.values():
        known = ", ".join(sorted(REGION_DOMAINS.values()))
        raise GenesysConfigError(f"Unknown Genesys Cloud region {value!r}; use one of: {known}")
    return Region(
        domain=domain, api_base_url=f"https://api.{domain}", login_base_url=f"https://login.{domain}"
    )
