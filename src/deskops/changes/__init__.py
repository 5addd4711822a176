"""The action layer: every change to a workspace is a proposal.

``changeset`` reads and resolves what a proposal would write, ``diff`` shows it,
``review/`` checks it with independent reviewers, ``proposals`` holds the lifecycle
(create, refine, reject, accept, split), ``apply`` writes and reverts, and ``audit``
keeps the tamper-evident log every step is recorded in. See docs/changes.md.
"""
