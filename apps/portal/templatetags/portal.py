from django import template

register = template.Library()


@register.filter
def minutes(seconds: int) -> str:
    """Seconds as a readable duration: '−1 h 05 min', '42 min'."""
    sign = "−" if seconds < 0 else ""
    total = abs(int(seconds)) // 60
    hours, rest = divmod(total, 60)
    return f"{sign}{hours} h {rest:02d} min" if hours else f"{sign}{rest} min"
