from django.apps import AppConfig


class KodaConfig(AppConfig):
    name = "koda"
    verbose_name = "Koda (operators, tokens, audit)"
