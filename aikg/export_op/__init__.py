"""`aikg export --as op` and `aikg pack`: a verified kernel as a PyTorch custom op
(docs/export.md). `facts` learns the task's signature and verified shapes, `envelope`
turns them into the rules the op checks, `writer` writes the op module (whose runtime is
`runtime`), `package` an installable package of several."""
