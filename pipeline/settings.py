"""Settings: where koubo reads and writes, with a default and a description for each.

Built once by the CLI (or the server) and passed down; read from the
environment with the prefix ``KOUBO_`` (``KOUBO_OUTPUTS=/data/koubo``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOUBO_", frozen=True)

    corpora: Path = Field(Path("corpora"), description="The folder of call documents, with MANIFEST.csv.")
    outputs: Path = Field(Path("outputs"), description="Where results go: documents/, indexes/, diffs/.")
    models: Path = Field(
        Path("models"), description="Models built at set-up (`make models`): the e5 embedder and the modality model."
    )
    index: str = Field("default", description="The name of the clause index under outputs/indexes/.")

    @property
    def documents_dir(self) -> Path:
        return self.outputs / "documents"

    @property
    def index_dir(self) -> Path:
        return self.outputs / "indexes" / self.index

    @property
    def manifest_path(self) -> Path:
        return self.corpora / "MANIFEST.csv"
