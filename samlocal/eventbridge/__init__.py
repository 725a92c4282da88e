"""EventBridge's delivery to rule targets (moto delivers inside PutEvents, ignores queue policies
and never dead-letters): asynchronous, per target, retried, dead-lettered."""

from samlocal.eventbridge.delivery import Delivery, DeliveryFailed, TargetDelivery

__all__ = ["Delivery", "DeliveryFailed", "TargetDelivery"]
