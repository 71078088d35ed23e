"""The evidence report's screenshot for docs/screenshots/ (not a test): a real vault, a scan of
a page on the local test host (tests/leakhost.py), the signed report, one page as PNG.

    python -m tests.ui.make_report_screenshot [OUT.png]     (needs pdftoppm: poppler-utils)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

from app.core.leaks.fetch import Fetcher, FetchPolicy
from app.core.sharing import ShareOptions
from app.core.vault import Vault
from tests.conftest import PASSPHRASE, PHOTOS, encode, fast_kdf
from tests.leakhost import ImageHost

ROOT = Path(__file__).resolve().parents[2]
PAGE = 2  # the first copy's page: its fields, thumbnail and captures


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        vault, _ = Vault.create(work / "vault", PASSPHRASE, enable_totp=False, kdf=fast_kdf())
        host = ImageHost().start()
        try:
            vault.import_paths([PHOTOS / "dog.jpg", PHOTOS / "kodim23.png"])
            ids = {p.filename: p.id for p in vault.list_photos()}
            shared = vault.share(ids["dog.jpg"], work / "for-sam.jpg",
                                 ShareOptions(recipient="Sam Øster", platform="Signal"))
            copy = Image.open(shared.out)
            reposted = encode(copy.resize((copy.width * 3 // 4, copy.height * 3 // 4)).convert("RGB"),
                              "JPEG", quality=70)
            parrots = Image.open(PHOTOS / "kodim23.png").convert("RGB")
            crop = encode(parrots.crop((0, 0, parrots.width * 6 // 10, parrots.height * 7 // 10)), "JPEG")
            urls = [host.upload(reposted)[0], host.upload(crop)[0]]
            page = host.add_page("gallery", "<html><head><title>New uploads</title></head><body>"
                                 + "".join(f'<img src="{url}">' for url in urls) + "</body></html>")
            policy = FetchPolicy(min_host_interval=0.0)
            with Fetcher(policy) as fetcher:
                vault.scan([page], fetcher=fetcher)
                matches = vault.scan([page], fetcher=fetcher).matches  # a second look: history
            evidence = vault.case_evidence([m.id for m in matches], title="Photos reposted on a gallery",
                                           prepared_by="Ngọc Ánh Trần")
            written = vault.write_report(evidence, work / "case.pdf")
        finally:
            host.stop()
            vault.lock()
        subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", "-f", str(PAGE), "-l", str(PAGE),
                        written.out, str(work / "page")], check=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(work / "page.png", out)
    print(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots" / "report-page.png")
