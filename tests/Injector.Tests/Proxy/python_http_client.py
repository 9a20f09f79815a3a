"""GETs each URL with Python requests (Debian's), which sends http:// URLs through the proxy that HTTP_PROXY names
(unless NO_PROXY excludes the host), on one session so that the proxy connection is reused across hosts.
Prints one line per URL: the status code, then the body on one line.

usage: python_http_client.py URL..."""
import sys

import requests


def main():
    with requests.Session() as session:
        for url in sys.argv[1:]:
            response = session.get(url, timeout=20)
            print("%d %s" % (response.status_code, response.text.replace("\n", " ").strip()))


if __name__ == "__main__":
    main()
