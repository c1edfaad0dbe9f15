"""Investors' signed order actions (new, cancel, amend) in the routes: verified, done once, and
a retry answered like the first request.

Staff (salespeople, clerks) act unsigned. An investor's request, when the platform has a
certificate authority, is verified first (``certificates.SignatureVerifier``; each failure is a
403 with its 42xx code). Then:

- a request whose nonce is new runs, and its outcome is remembered with the nonce: the ID of the
  order it created or acted on, or the code the core refused it with;
- a retry (same nonce, byte-identical signed content) does not run again: it gets the first
  request's order (the route answers with its current view) or the same refusal, just as a
  repeated client order ID returns the first order and never a second one;
- a retry that arrives while the first request is still in the core, or after its AP process
  died before learning the outcome, gets SIGNED_REQUEST_IN_PROGRESS (409): the client looks the
  order up, or signs a new request once the first one's timestamp has gone stale.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from brokercloud.codes import Code
from brokercloud.core.commands import Role
from brokercloud.gateway.app import ApiError, GatewayContext
from brokercloud.gateway.authz import Caller
from brokercloud.gateway.schemas import SignedBody
from brokercloud.gateway.signing import CertificateError

IN_PROGRESS_STATUS = 409

#: Runs the action and returns the ID of the order it created or acted on; a refusal by the core
#: is an ``ApiError`` (422), remembered for retries.
Action = Callable[[], Awaitable[str]]


async def run_signed(g: GatewayContext, caller: Caller, body: SignedBody,
                     fields: Callable[[], Mapping[str, str | int]], account: str,
                     act: Action) -> str:
    """The order ID ``act`` produced, running it only if ``caller`` may act with this body:
    unsigned for staff, signed for ``account`` by an investor (module docstring). ``fields``
    gives what the signature covers, asked only when there is a signature to check."""
    if caller.role is not Role.INVESTOR or g.verifier is None:
        return await act()
    try:
        verified = g.verifier.verify(body.certificate, body.signature, fields(),
                                     broker=caller.broker, account=account, now_ms=g.now_ms())
    except CertificateError as error:
        raise ApiError(403, error.code) from error
    prior = verified.prior
    if prior is not None:
        if prior.code is not None:
            raise ApiError(422, Code(prior.code))
        if prior.order_id is None or prior.order_id not in g.state.orders:
            raise ApiError(IN_PROGRESS_STATUS, Code.SIGNED_REQUEST_IN_PROGRESS)
        return prior.order_id
    try:
        order_id = await act()
    except ApiError as error:
        g.verifier.settle(verified, code=int(error.code))
        raise
    g.verifier.settle(verified, order_id=order_id)
    return order_id
