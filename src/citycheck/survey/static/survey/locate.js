// The public form's "locate" button: the browser's position (asked only on a click) goes
// to the link's locate/ address, which answers the county whose boundary contains it; the
// county is pre-selected and stays editable. Without geolocation the button stays hidden.
(function () {
  if (!("geolocation" in navigator)) return;
  document.querySelectorAll("[data-locate]").forEach(function (button) {
    var box = button.closest(".locate");
    var message = box.querySelector("[data-locate-message]");
    var select = document.querySelector('select[name="' + button.dataset.locate + '"]');
    box.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      message.textContent = "…";
      navigator.geolocation.getCurrentPosition(
        function (position) {
          var url = new URL("locate/", window.location.href);
          url.searchParams.set("lon", position.coords.longitude);
          url.searchParams.set("lat", position.coords.latitude);
          fetch(url, { headers: { Accept: "application/json" } })
            .then(function (reply) { return reply.json(); })
            .then(function (answer) {
              if (answer.county) select.value = answer.county;
              message.textContent = answer.message;
            })
            .catch(function () { message.textContent = button.dataset.failed || ""; })
            .finally(function () { button.disabled = false; });
        },
        function (error) {
          message.textContent = error.message;
          button.disabled = false;
        },
        { timeout: 15000, maximumAge: 600000 }
      );
    });
  });
})();
