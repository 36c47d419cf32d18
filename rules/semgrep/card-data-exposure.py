import logging

log = logging.getLogger(__name__)
logger = logging.getLogger("payments")


def charge(card_number, cvv, card, amount, order_id, payment_token, pan_last4):
    # ruleid: payment.card-data-in-log
    log.info("charging card %s", card_number)

    # ruleid: payment.card-data-in-log
    logger.debug("cvv=%s", cvv)

    # ruleid: payment.card-data-in-log
    log.warning(f"card {card.pan} declined")

    # ruleid: payment.card-data-in-log
    print("token", payment_token)

    # ruleid: payment.card-data-in-log
    logging.error("bad card: %s", request.POST.card_number)

    # ok: payment.card-data-in-log
    log.info("charging card ending %s", card_number[-4:])

    # ok: payment.card-data-in-log
    log.info("charging card %s", mask_pan(card_number))

    # ok: payment.card-data-in-log
    log.info("charging order %s amount %s", order_id, amount)

    # ok: payment.card-data-in-log
    log.info("card ending %s", pan_last4)

    # ok: payment.card-data-in-log
    log.info("expanding company %s", card.company)

    # ok: payment.card-data-in-log
    cache.set("cvv", cvv)

    if amount < 0:
        # ruleid: payment.card-data-in-exception
        raise ValueError(f"invalid charge for card {card_number}")

    if not cvv:
        # ruleid: payment.card-data-in-exception
        raise PaymentError("declined", cvv)

    if amount > 10000:
        # ok: payment.card-data-in-exception
        raise ValueError(f"amount too large for card ending {card_number[-4:]}")

    # ok: payment.card-data-in-exception
    raise PaymentError("declined", order_id)


def refund(request, card, log):
    # ruleid: payment.card-data-in-log
    log.info("refund to %s", request.POST["card_number"])

    # ruleid: payment.card-data-in-log
    log.info("refund to %s exp %s" % (card.pan, card.expiry))

    # ok: payment.card-data-in-log
    log.info("refund to %s", request.POST["order_id"])

    # ok: payment.card-data-in-log
    log.info("refund of %s", len(card.pan))


class Gateway:
    def pay(self, card_number):
        # ruleid: payment.card-data-in-log
        self.logger.info("paying with %s", card_number)
        # ok: payment.card-data-in-log
        self.catalog.info("paying with %s", card_number)
