"""The install instructions ThingsBoard shows for an edge (Markdown), with its credentials filled in."""

from edges import conf

__all__ = ["METHODS", "install_instructions", "NO_UPGRADE"]

EDGE_VERSION = "4.1.0PE"
_ENV = """CLOUD_ROUTING_KEY: {routing_key}
      CLOUD_ROUTING_SECRET: {secret}
      CLOUD_RPC_HOST: {host}
      CLOUD_RPC_PORT: {port}
      CLOUD_RPC_SSL_ENABLED: false"""

_DOCKER = """## Install edge and connect to cloud using Docker

Create a `docker-compose.yml` file:

```yml
services:
  mytbedge:
    restart: always
    image: "thingsboard/tb-edge-pe:{version}"
    ports:
      - "8080:8080"
      - "1883:1883"
      - "5683-5688:5683-5688/udp"
    environment:
      SPRING_DATASOURCE_URL: jdbc:postgresql://postgres:5432/tb-edge
      """ + _ENV + """
    volumes:
      - tb-edge-data:/data
      - tb-edge-logs:/var/log/tb-edge
  postgres:
    restart: always
    image: "postgres:16"
    environment:
      POSTGRES_DB: tb-edge
      POSTGRES_PASSWORD: postgres
    volumes:
      - tb-edge-postgres-data:/var/lib/postgresql/data
volumes:
  tb-edge-data:
  tb-edge-logs:
  tb-edge-postgres-data:
```

Start the edge:

```bash
docker compose up -d && docker compose logs -f mytbedge
```

Open ThingsBoard Edge at http://localhost:8080 and log in with your credentials of this server.
"""

_PACKAGE = """## Install edge and connect to cloud on {os_name}

Install Java 17 and PostgreSQL, create the `tb_edge` database, then download and install the package:

```bash
{download}
```

Edit `/etc/tb-edge/conf/tb-edge.conf` and set:

```bash
export CLOUD_ROUTING_KEY={routing_key}
export CLOUD_ROUTING_SECRET={secret}
export CLOUD_RPC_HOST={host}
export CLOUD_RPC_PORT={port}
export CLOUD_RPC_SSL_ENABLED=false
```

Install the database schema and start the service:

```bash
sudo /usr/share/tb-edge/bin/install/install.sh
sudo service tb-edge start
```
"""

_DOWNLOADS = {
    "ubuntu": ("Ubuntu", "wget https://dist.thingsboard.io/tb-edge-{version}.deb\nsudo dpkg -i tb-edge-{version}.deb"),
    "centos": ("CentOS/RHEL", "wget https://dist.thingsboard.io/tb-edge-{version}.rpm\n"
                              "sudo rpm -Uvh tb-edge-{version}.rpm"),
}
METHODS = ("docker", "ubuntu", "centos")
#: ThingsBoard's answer when no upgrade applies to an edge of that version
NO_UPGRADE = "Edge is already up to date."


def install_instructions(edge, method: str, request_host: str) -> str:
    values = {"routing_key": edge.routing_key, "secret": edge.secret, "host": conf.cloud_rpc_host() or request_host,
              "port": conf.cloud_rpc_port(), "version": EDGE_VERSION}
    if method == "docker":
        return _DOCKER.format(**values)
    os_name, download = _DOWNLOADS[method]
    return _PACKAGE.format(os_name=os_name, download=download.format(**values), **values)
