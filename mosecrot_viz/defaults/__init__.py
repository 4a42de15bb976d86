"""The embedded defaults: the registry (`registry.RESOURCES`: what each default is, its package, licence and
provenance) and the builders that turn registry packages into cached models, vectors, lexicons and tasks."""
