from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="release",
            name="provisional",
            field=models.BooleanField(
                default=False,
                help_text="轮次仍在填报中，或有地区的数据尚未经省级采纳；轮次截止前不能发布。",
                verbose_name="暂定结果",
            ),
        ),
    ]
