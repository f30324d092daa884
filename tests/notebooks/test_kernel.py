"""The tinyann Jupyter kernel: ``tinyann jupyter install`` / ``uninstall`` into a temporary
Jupyter path, a notebook executed on it by name, and ``%load_ext tinyann``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.usefixtures("notebook_extra")

# nbclient picks the kernel the notebook names, as Jupyter does: here, the installed one
EXECUTE_BY_NAME = textwrap.dedent("""\
    import sys
    import nbformat
    from nbclient import NotebookClient
    from jupyter_client.kernelspec import KernelSpecManager
    print("SPEC", KernelSpecManager().get_kernel_spec("tinyann").display_name)
    nb = nbformat.read(sys.argv[1], as_version=4)
    NotebookClient(nb, timeout=120, startup_timeout=120).execute()
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            print("OUT", out.get("text", "") or out.get("data", {}).get("text/plain", ""))
""")


def test_install_into_a_jupyter_path_then_run_a_notebook_on_it_by_name(nb, tmp_path):
    data_dir = tmp_path / "jupyter-data"
    env = {"JUPYTER_DATA_DIR": str(data_dir), "JUPYTER_PATH": "", "JUPYTER_CONFIG_DIR":
           str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    done = nb.cli(["jupyter", "install", "--user"], cwd=tmp_path, **env)
    assert done.returncode == 0, done.stderr
    folder = data_dir / "kernels" / "tinyann"
    assert f"installed the kernel 'tinyann' (Python 3 (tinyann)) in {folder}" in done.stdout
    spec = json.loads((folder / "kernel.json").read_text())
    assert spec["display_name"] == "Python 3 (tinyann)"
    assert spec["argv"][:3] == [sys.executable, "-m", "ipykernel_launcher"]
    assert "--ext=tinyann" in spec["argv"] and "{connection_file}" in spec["argv"]
    assert (folder / "logo-64x64.png").exists()

    path = nb.make(tmp_path / "by-name.ipynb",
                   "import tensorflow as tf\nfrom tensorflow import keras\n"
                   "import tinyann\n"
                   "print(tf.keras.Sequential is keras.Sequential is tinyann.Sequential)",
                   "import matplotlib\nprint(matplotlib.get_backend())",
                   kernel="tinyann")
    run = subprocess.run([sys.executable, "-c", EXECUTE_BY_NAME, str(path)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300, env=nb.env(**env))
    assert run.returncode == 0, run.stderr
    assert "SPEC Python 3 (tinyann)" in run.stdout
    assert "OUT True\n" in run.stdout
    assert "matplotlib_inline" in run.stdout  # figures inline, whatever the parent had

    done = nb.cli(["jupyter", "uninstall", "--user"], cwd=tmp_path, **env)
    assert done.returncode == 0 and not folder.exists()
    again = nb.cli(["jupyter", "uninstall", "--user"], cwd=tmp_path, **env)
    assert again.returncode == 2
    assert again.stderr == (f"tinyann: error: no kernelspec 'tinyann' in "
                            f"{data_dir / 'kernels'}\n")


def test_install_with_a_prefix_and_a_name(nb, tmp_path):
    done = nb.cli(["jupyter", "install", "--prefix", str(tmp_path / "env"), "--name", "tf2",
                   "--display-name", "TF on tinyann"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    spec = json.loads((tmp_path / "env/share/jupyter/kernels/tf2/kernel.json").read_text())
    assert spec["display_name"] == "TF on tinyann"
    assert nb.cli(["jupyter", "install", "--name", "bad name"], cwd=tmp_path).returncode == 2
    both = nb.cli(["jupyter", "install", "--user", "--prefix", "x"], cwd=tmp_path)
    assert both.returncode == 2 and "Choose one of --user and --prefix" in both.stderr


def test_load_ext_tinyann_in_a_plain_python_kernel(nb, tmp_path):
    # the notebook names ipykernel's own kernel: `%load_ext tinyann` brings the shims
    path = nb.make(tmp_path / "ext.ipynb",
                   "import sys\nprint('keras' in sys.modules)",
                   "%load_ext tinyann\nimport keras, tinyann\n"
                   "print(keras.layers.Dense is tinyann.layers.Dense)",
                   "%unload_ext tinyann\nimport sys\nprint('keras' in sys.modules)",
                   kernel="python3")
    code = ("import sys, nbformat\nfrom nbclient import NotebookClient\n"
            "nb = nbformat.read(sys.argv[1], as_version=4)\n"
            "NotebookClient(nb, timeout=120, startup_timeout=120).execute()\n"
            "print([c.outputs[0]['text'] for c in nb.cells[1:]])")
    run = subprocess.run([sys.executable, "-c", code, str(path)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300, env=nb.env())
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "['False\\n', 'True\\n', 'False\\n']"


def test_the_extension_in_an_in_process_ipython_shell():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "tinyann")
        result = shell.run_cell("import tensorflow as tf\nmodule = tf.keras.layers.Dense")
        assert result.success
        import tinyann

        assert shell.user_ns["module"] is tinyann.layers.Dense
    finally:
        shell.run_line_magic("unload_ext", "tinyann")
        InteractiveShell.clear_instance()
    assert "tensorflow" not in sys.modules
