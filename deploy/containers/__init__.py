"""IMS in containers: a Docker engine of the project's own, the images, the testkit wheel.

`ims-images` (deploy/containers/cli.py) is the command line of this package.
"""
