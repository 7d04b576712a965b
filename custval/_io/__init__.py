"""Reading and writing: survey-file readers, the codebook schema, survey-platform formats,
personal-data detection, YAML with line numbers and the package's paths."""
