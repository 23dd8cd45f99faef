"""factory_boy factories for the domain, shared by every test module."""

import factory
from django.contrib.auth import get_user_model

from casework import models
from casework.validators import partita_iva_check_digit


def _partita_iva(n: int) -> str:
    first_ten = f"{n:010d}"
    return first_ten + str(partita_iva_check_digit(first_ten))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="it_IT")
    last_name = factory.Faker("last_name", locale="it_IT")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("sportello-test")


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Office
        django_get_or_create = ("code",)

    code = "BO"
    name = factory.LazyAttribute(lambda o: f"Ufficio {o.code}")


class SectorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Sector
        django_get_or_create = ("code",)

    code = "social"
    name = "Cooperative sociali"


class CooperativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Cooperative

    name = factory.Sequence(lambda n: f"Cooperativa {n}")
    tax_code = factory.Sequence(lambda n: _partita_iva(1000000 + n))
    office = factory.SubFactory(OfficeFactory)
    sector = factory.SubFactory(SectorFactory)


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.PracticeArea
        django_get_or_create = ("code",)

    code = "legal"
    name = factory.LazyAttribute(lambda a: a.code.title())
    reference_prefix = factory.LazyAttribute(lambda a: a.code[:3].upper())


class SpecialtyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Specialty

    area = factory.SubFactory(AreaFactory)
    code = factory.Sequence(lambda n: f"specialty-{n}")
    name = factory.Sequence(lambda n: f"Specialty {n}")


class OutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.OutcomeCode

    area = factory.SubFactory(AreaFactory)
    code = factory.Sequence(lambda n: f"outcome-{n}")
    label = factory.Sequence(lambda n: f"Outcome {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    """A person of a cooperative; by default its legal representative, who sees all its cases
    (the tests whose subject is not the roles inside a cooperative). An ordinary member sees
    only their own cases and those they follow: ask for `role="member"`."""

    class Meta:
        model = models.Membership

    user = factory.SubFactory(UserFactory)
    cooperative = factory.SubFactory(CooperativeFactory)
    role = models.Membership.Role.LEGAL_REPRESENTATIVE


class ConsultantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Consultant
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    office = factory.SubFactory(OfficeFactory)
    capacity = 10

    @factory.post_generation
    def areas(self, create, extracted, **kwargs):
        if create:
            self.areas.set(extracted if extracted is not None else [AreaFactory()])


class SupervisorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Supervisor
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    all_areas = True

    @factory.post_generation
    def areas(self, create, extracted, **kwargs):
        if create and extracted:
            self.areas.set(extracted)


class SlaPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.SlaPolicy
        django_get_or_create = ("area", "priority")

    area = factory.SubFactory(AreaFactory)
    priority = "normal"
    first_response_minutes = 240
    resolution_minutes = 2400
    warning_percent = 75
