"""The scratch database a benchmark seeds and measures, next to DATABASE_URL's, never in it."""

from urllib.parse import urlsplit, urlunsplit


def database_urls(url: str, *, suffix: str = "_bench") -> tuple[str, str, str]:
    """The scratch database's URL and name (``<name><suffix>``), and the maintenance database's URL."""
    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'followthrough'}{suffix}"
    return urlunsplit(parts._replace(path=f"/{name}")), name, urlunsplit(parts._replace(path="/postgres"))


def recreate_database(maintenance_url: str, name: str, *, drop_only: bool = False) -> None:
    """Drop the scratch database (closing any connection a killed run left) and make it anew."""
    import psycopg2

    connection = psycopg2.connect(maintenance_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
