"""Which interpreter an inline script names, and where a sweep placeholder in it is refused."""

from __future__ import annotations

import pytest

from molq.core._errors import SpecError
from molq.core._sweep_shell import check_inline_script, script_interpreter


@pytest.mark.parametrize(
    ("text", "interpreter"),
    [
        ("#!/bin/bash\necho", "bash"),
        ("#!/usr/bin/env python3\nprint()", "python3"),
        ("#! /usr/bin/env -S python3 -u\n", "python3"),
        ("#!/usr/bin/env\n", "env"),
        ("#!/usr/bin/env -i\n", "env"),
        ("#!/opt/x/bin/Rscript --vanilla\n", "Rscript"),
        ("#!sh", "sh"),
        ("#!\necho", None),
        ("#!   \n", None),
        ("echo hi\n#!/bin/bash", None),
        ("", None),
    ],
)
def test_script_interpreter(text: str, interpreter: str | None) -> None:
    assert script_interpreter(text) == interpreter


def test_placeholder_in_a_python_script_is_refused_naming_the_variable() -> None:
    with pytest.raises(SpecError) as info:
        check_inline_script("#!/usr/bin/env python3\nprint({lr})\n")
    assert str(info.value).startswith(
        "placeholder {lr} in an inline python3 script cannot be filled safely: read the environment variable MOLQ_ARG_lr"
    )


@pytest.mark.parametrize(
    "text",
    ["#!/bin/bash\necho {lr}\n", "#!/usr/bin/env zsh\necho {lr}\n", "echo {lr}\n", "#!/usr/bin/env python3\nx = {{lr}}\n",
     "#!/usr/bin/python3\nprint('no placeholder')\n"],
)
def test_shell_scripts_and_scripts_without_placeholders_pass(text: str) -> None:
    check_inline_script(text)
