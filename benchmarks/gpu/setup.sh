# Sourced on the GPU machine: installs the carried pure-Python wheels (.whl/) into
# /tmp/site and puts them and this repository on PYTHONPATH. The machine has torch,
# Triton and NumPy but none of aikg's other dependencies and no network.
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || return 1
export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 -c "import torch, triton, numpy; print('torch', torch.__version__, 'triton', triton.__version__, 'numpy', numpy.__version__, 'python', __import__('sys').version.split()[0])"
