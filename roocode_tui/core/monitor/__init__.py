"""What the box is doing: the GPU (NVML, nvidia-smi), vLLM's /metrics, the metric history, and
`doctor`'s checks."""
