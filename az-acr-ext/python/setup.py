#!/usr/bin/env python3
"""Builds the acr_ext wheel: the `az acr-ext` Azure CLI extension. No pip dependencies: the work is
done by the `az-acr-ext` engine binary, which the extension runs."""

import os
import re

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def read_version():
    with open(os.path.join(HERE, "azext_acr_ext", "_version.py"), encoding="utf-8") as source:
        match = re.search(r'^VERSION = "([^"]+)"', source.read(), re.MULTILINE)
    if not match:
        raise RuntimeError("azext_acr_ext/_version.py holds no VERSION")
    return match.group(1)


with open(os.path.join(HERE, "README.md"), encoding="utf-8") as readme:
    LONG_DESCRIPTION = readme.read()

setup(
    name="acr-ext",
    version=read_version(),
    description="Azure Container Registry helpers for az: certificates, connected registry settings",
    long_description=LONG_DESCRIPTION,
    long_description_content_type="text/markdown",
    license="MIT",
    classifiers=[
        "Development Status :: 4 - Beta",
        "Intended Audience :: Developers",
        "Intended Audience :: System Administrators",
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: MIT License",
    ],
    packages=find_packages(include=["azext_acr_ext", "azext_acr_ext.*"]),
    package_data={"azext_acr_ext": ["azext_metadata.json"]},
    install_requires=[],
    python_requires=">=3.8",
)
