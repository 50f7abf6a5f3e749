"""hf_asr: log-mel wav2vec 2.0 speech recognition, native in the Hugging Face ecosystem."""

from pathlib import Path

from setuptools import find_packages, setup


def read_version() -> str:
    for line in Path(__file__).with_name("hf_asr").joinpath("version.py").read_text().splitlines():
        if line.startswith("__version__"):
            return line.split("=")[1].strip().strip('"')
    raise RuntimeError("hf_asr/version.py has no __version__")


# Pins found by trying them together (2026-11):
# - torchaudio 2.11 loads only beside the CUDA build of torch 2.14.1 (on local disk).
# - pyctcdecode 0.5.0 declares numpy<2; pyarrow 26 needs numpy 2 without declaring it.
INSTALL_REQUIRES = [
    "torch==2.14.1",
    "torchaudio==2.11.0",
    "torchcodec==0.17.0",
    "transformers>=5.24,<6",
    "datasets==5.2.0",
    "evaluate==0.4.6",
    "accelerate==1.15.0",
    "pyctcdecode==0.5.0",
    "kenlm==0.3.0",
    "jiwer==4.0.0",
    "soundfile",
    "numpy>=1.26,<2",
    "pyarrow>=24,<26",
    "matplotlib",
    "tqdm",
    "num2words==0.5.14",
]

setup(
    name="hf_asr",
    version=read_version(),
    description="Log-mel wav2vec 2.0 pretraining, CTC fine-tuning and KenLM decoding for the Hugging Face stack",
    long_description=Path(__file__).with_name("README.md").read_text(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["hf_asr", "hf_asr.*"]),
    package_data={"hf_asr": ["metrics/*/*.py"]},
    python_requires=">=3.10",
    install_requires=INSTALL_REQUIRES,
    extras_require={
        "dev": ["pytest", "hypothesis", "ruff"],
        # --report_to tensorboard (TensorBoard logs in OUTPUT_DIR/runs)
        "tensorboard": ["tensorboard"],
        # Optional second LM-decoding backend (torchaudio's flashlight ctc_decoder); hf-asr ... --backend flashlight
        "flashlight": ["flashlight-text==0.0.7"],
    },
    entry_points={"console_scripts": ["hf-asr=hf_asr.cli:main"]},
)
