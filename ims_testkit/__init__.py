"""Test your service against a real IMS: Kafka, PostgreSQL and the four IMS services in
containers, started by one call.

    from ims_testkit import Images, start_ims

    with start_ims(Images.from_env()) as ims:
        ims.bootstrap, ims.topics["ImageReady"], ims.urls["catalog"], ims.token(account_id)

The event models are in ``ims_testkit.schemas`` (in the ims-testkit wheel), and
``cloudevent()`` turns one into the bytes of a Kafka record. See the IMS README.
"""

from ims_testkit.cloudevents import cloudevent
from ims_testkit.images import Images
from ims_testkit.stack import SERVICES, ImsStartError, RunningIms, start_ims
from ims_testkit.tokens import Issuer

__all__ = [
    "SERVICES",
    "Images",
    "ImsStartError",
    "Issuer",
    "RunningIms",
    "cloudevent",
    "start_ims",
]
