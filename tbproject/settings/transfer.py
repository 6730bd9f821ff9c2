"""Version control (transfer/vc/): where tenants' repositories are cached and fetch limits."""

from tbproject.env import env_int, env_str

from .base import DATA_DIR

# Version control (transfer/vc/): each tenant's bare cache of its repository; seconds of network silence before an
# operation fails; most pack data one fetch takes (bytes); local paths, file:// and private hosts as remotes (tests).
VC_REPOSITORIES_DIR = env_str("VC_REPOSITORIES_DIR", str(DATA_DIR / "vc-repositories"))
VC_NETWORK_TIMEOUT = env_int("VC_NETWORK_TIMEOUT", 20, minimum=1)
VC_MAX_FETCH_BYTES = env_int("VC_MAX_FETCH_BYTES", 200 * 1024 * 1024, minimum=1024)
VC_ALLOW_LOCAL_REPOSITORIES = False
