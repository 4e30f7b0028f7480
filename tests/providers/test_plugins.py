"""A vendor from another package: registered as an entry point of `dailies.providers`, found by the registry.

The plug-in is a real distribution on a temporary `sys.path` entry (a `.dist-info` folder with its
`entry_points.txt`, as pip would install it), so the registry finds it through `importlib.metadata` as it
would find an installed package: no monkeypatching of the discovery.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dailies.providers import registry
from dailies.providers.catalog import VendorCatalog

PLUGIN = '''
"""A toy vendor: its catalogue (imported by the registry) and its provider (imported when one is built)."""
from dailies.providers._vendor import ModelSpec
from dailies.providers.catalog import VendorCatalog

CATALOG = VendorCatalog(
    "toy", "Toy", ("TOY_KEY",),
    {"toy-1": ModelSpec("toy-1", {"1280x720": "16:9"}, (4, 8), 0.05, image=True)},
    provider="toyvendor.provider:ToyProvider", title="Toy (a plug-in vendor)", supports="Text to video.",
    unsupported={"list": "Toy lists nothing."},
)
NOT_A_CATALOG = "a string"
'''

PROVIDER = '''
import httpx

from dailies.errors import NotSupported
from dailies.providers.base import Health
from dailies.providers.vendor_base import VendorProvider
from toyvendor import CATALOG


class ToyProvider(VendorProvider):
    catalog = CATALOG

    def __init__(self, name="toy", *, api_key=None, base_url=None, label="Toy", models=CATALOG.models):
        super().__init__(name, label=label, models=models, base_url=base_url)
        self.api_key = api_key
        self.sdk = httpx.Client()

    def submit(self, request, *, source_remote_id=None):
        raise NotSupported("a toy")

    def refresh(self, remote_id):
        raise NotSupported("a toy")

    def download(self, remote_id, variant, dest, on_progress=None):
        raise NotSupported("a toy")

    def delete(self, remote_id):
        raise NotSupported("a toy")

    def health(self):
        return Health(True, "Toy answers")
'''


@pytest.fixture
def plugin_path(tmp_path: Path) -> Path:
    """A `toyvendor` distribution: its package and its dist-info, with a good entry point and two bad ones."""
    package = tmp_path / "toyvendor"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    (package / "provider.py").write_text(textwrap.dedent(PROVIDER))
    info = tmp_path / "toyvendor-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toyvendor\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[dailies.providers]\ntoy = toyvendor:CATALOG\nodd = toyvendor:NOT_A_CATALOG\nbroken = toyvendor:missing\n")
    return tmp_path


def test_a_plugin_catalogue_is_found_and_a_broken_one_is_left_out(
    plugin_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.syspath_prepend(str(plugin_path))
    found = registry.plugin_catalogs()
    assert [catalog.kind for catalog in found] == ["toy"]
    assert isinstance(found[0], VendorCatalog) and found[0].title == "Toy (a plug-in vendor)"
    said = caplog.text
    assert "broken" in said and "odd" in said and "not a VendorCatalog" in said


def test_a_plugin_vendor_is_a_kind_built_through_the_registry_like_a_built_in(plugin_path: Path) -> None:
    """In a fresh process with the plug-in installed: listed among the kinds, priced, keyed and built."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(root), str(plugin_path)))}
    code = textwrap.dedent('''
        from dailies.errors import NotSupported
        from dailies.providers import registry
        from dailies.providers.base import VideoProvider
        assert list(registry.KINDS)[-1] == "toy", list(registry.KINDS)
        assert registry.kind("toy").label == "Toy (a plug-in vendor)"
        assert registry.key_problem("toy", {}.get) is not None
        assert [r.model_prefix for r in registry.prices("toy").rates] == ["toy-1"]
        provider = registry.build("mine", {"kind": "toy", "label": "My toy"}, {"TOY_KEY": "k"}.get)
        assert type(provider).__name__ == "ToyProvider" and isinstance(provider, VideoProvider)
        assert provider.label == "My toy" and provider.api_key == "k" and provider.health().ok
        assert provider.capabilities().models == ("toy-1",) and not provider.capabilities().list_videos
        try:
            provider.list_videos()
            raise SystemExit("a toy listed its videos")
        except NotSupported as exc:
            assert str(exc) == "Toy lists nothing."
        provider.close()
        print("ok")
    ''')
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=root, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "ok"
