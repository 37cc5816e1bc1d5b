"""Capture's I/O that is neither SQL nor HTTP: the disk tools run as subprocesses
(:mod:`.tools`, :mod:`.qemu`), hosts' disks in block storage (:mod:`.disks`), the image
store (:mod:`.image_store`) and the guest inspection of the preflight (:mod:`.preflight`,
whose rules are :mod:`services.capture.domain.preflight`)."""
