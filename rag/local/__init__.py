"""A running `rag serve` and the CLI on one data dir: the server announces itself in the data dir
(`announcement`), owns the embedded Chroma (`ownership`), and the CLI finds it (`discovery`) and talks to
it over HTTP (`client`). Without a live server the CLI works in-process."""
